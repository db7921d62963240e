// lsnet-bench: benchmark Core ML models on this Mac and write lsnet-bench/1 JSON.
//   swift run -c release lsnet-bench --model lsnet_t_fp16.mlpackage [--model ...] [--out result.json]
//       [--rounds 20] [--iterations 50] [--units cpu_only,cpu_and_gpu,cpu_and_ne,all]
import Foundation
import LSNetBenchKit

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(2)
}

var settings = BenchSettings()
var models: [URL] = []
var output: URL?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next() else { fail("\(flag) needs a value") }
    switch flag {
    case "--model": models.append(URL(fileURLWithPath: value))
    case "--out": output = URL(fileURLWithPath: value)
    case "--rounds": settings.rounds = Int(value) ?? 0
    case "--iterations": settings.iterations = Int(value) ?? 0
    case "--units": settings.units = value.split(separator: ",").map(String.init)
    default: fail("unknown option \(flag); use --model, --out, --rounds, --iterations, --units")
    }
}
if models.isEmpty { fail("pass at least one --model PATH (.mlpackage, .mlmodel or .mlmodelc)") }
if settings.rounds < 2 || settings.iterations < 1 { fail("--rounds must be >= 2 (the first is warm-up) and --iterations >= 1") }
let unknown = settings.units.filter { unit in !computeUnits.contains { $0.name == unit } }
if !unknown.isEmpty { fail("unknown compute unit(s) \(unknown); use cpu_only, cpu_and_gpu, cpu_and_ne, all") }

do {
    let results = try runBenchmarks(models: models, settings: settings) { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
    let json = try results.json()
    if let output { try json.write(to: output) } else { FileHandle.standardOutput.write(json) }
} catch {
    fail("\(error)")
}
