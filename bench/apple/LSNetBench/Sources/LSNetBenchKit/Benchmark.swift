import CoreML
import Foundation

/// Compute units in lsnet's names (the `device` of a result row).
public let computeUnits: [(name: String, unit: MLComputeUnits)] = [
    ("cpu_only", .cpuOnly), ("cpu_and_gpu", .cpuAndGPU), ("cpu_and_ne", .cpuAndNeuralEngine), ("all", .all),
]

/// ModelBench-like protocol: `rounds` rounds of `iterations` predictions; the first round is warm-up
/// and not recorded; every other prediction is timed on its own (batch 1, synchronous).
public struct BenchSettings {
    public var rounds = 20
    public var iterations = 50
    public var units: [String] = computeUnits.map { $0.name }
    public init() {}

    var protocolText: String {
        "\(rounds) rounds x \(iterations) predictions, batch 1, first round warm-up; every timed prediction recorded; model loaded once per compute unit"
    }
}

/// Compile (if needed) and benchmark one model on every requested compute unit.
public func benchmark(modelURL: URL, settings: BenchSettings, log: (String) -> Void = { print($0) }) throws -> [BenchResults.Row] {
    let compiled = modelURL.pathExtension == "mlmodelc" ? modelURL : try MLModel.compileModel(at: modelURL)
    var rows: [BenchResults.Row] = []
    for (name, unit) in computeUnits where settings.units.contains(name) {
        let configuration = MLModelConfiguration()
        configuration.computeUnits = unit
        let model = try MLModel(contentsOf: compiled, configuration: configuration)
        let input = try makeInput(for: model.modelDescription)
        var samples: [Double] = []
        samples.reserveCapacity((settings.rounds - 1) * settings.iterations)
        for round in 0..<settings.rounds {
            for _ in 0..<settings.iterations {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try model.prediction(from: input)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                if round > 0 { samples.append(elapsed) }
            }
        }
        let stats = LatencyStats(samples: samples)
        let meta = model.modelDescription.metadata[MLModelMetadataKey.creatorDefinedKey] as? [String: String] ?? [:]
        let size = model.modelDescription.inputDescriptionsByName.values.compactMap(\.imageConstraint).first
        log(String(format: "%@ %@: p50 %.3f ms, mean %.3f ms, min %.3f ms", modelURL.lastPathComponent, name, stats.p50, stats.mean, stats.min))
        rows.append(BenchResults.Row(
            target: modelURL.lastPathComponent,
            model: meta["variant"],
            device: name,
            precision: meta["precision"] ?? "unknown",
            ska: meta["ska"],
            img_size: size.map { [$0.pixelsHigh, $0.pixelsWide] },
            latency_ms: stats,
            throughput_ips: 1000.0 / stats.mean,
            iterations: samples.count,
            metadata: meta.filter { ["variant", "ska", "precision", "deployment_target", "lsnet_version", "weights_sha256"].contains($0.key) }
        ))
    }
    return rows
}

/// Results of every model in `models` as one lsnet-bench/1 document.
public func runBenchmarks(models: [URL], settings: BenchSettings, log: (String) -> Void = { print($0) }) throws -> BenchResults {
    var rows: [BenchResults.Row] = []
    for url in models {
        rows += try benchmark(modelURL: url, settings: settings, log: log)
    }
    let environment = BenchResults.Environment(
        machine: machineIdentifier(),
        os: osDescription(),
        cpu: cpuDescription(),
        cores: ProcessInfo.processInfo.activeProcessorCount,
        versions: ["lsnet-bench-swift": "1"]
    )
    let settingsRecord = BenchResults.Settings(warmup_iters: settings.iterations, rounds: settings.rounds, protocol_: settings.protocolText)
    return BenchResults(created: utcTimestamp(), environment: environment, settings: settingsRecord, rows: rows)
}

/// Core ML models directly inside `folder`.
public func modelsIn(_ folder: URL) throws -> [URL] {
    let entries = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
    let models = entries.filter { ["mlpackage", "mlmodel", "mlmodelc"].contains($0.pathExtension) }.sorted { $0.path < $1.path }
    if models.isEmpty { throw BenchError.noModels(folder.path) }
    return models
}
