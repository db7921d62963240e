// Runs on a connected iPhone through `xcodebuild test` (see bench/apple/run_iphone_benchmark.md).
// Benchmarks every model copied into Tests/LSNetBenchTests/Models, prints lsnet-bench/1 JSON between
// the markers below (xcodebuild's log is how the result leaves the phone) and writes it to the
// test's temporary folder. Settings come from TEST_RUNNER_LSNET_ROUNDS / _ITERATIONS / _UNITS.
import XCTest
import LSNetBenchKit

final class DeviceBenchmarkTests: XCTestCase {
    static let beginMarker = "LSNET-BENCH-JSON-BEGIN"
    static let endMarker = "LSNET-BENCH-JSON-END"

    func testBenchmarkBundledModels() throws {
        let env = ProcessInfo.processInfo.environment
        var settings = BenchSettings()
        settings.rounds = Int(env["LSNET_ROUNDS"] ?? "") ?? settings.rounds
        settings.iterations = Int(env["LSNET_ITERATIONS"] ?? "") ?? settings.iterations
        if let units = env["LSNET_UNITS"] { settings.units = units.split(separator: ",").map(String.init) }
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Models", withExtension: nil), "Models folder missing from the test bundle")
        let results = try runBenchmarks(models: try modelsIn(folder), settings: settings)
        let json = try results.json()
        let text = String(decoding: json, as: UTF8.self)
        print(Self.beginMarker)
        print(text)
        print(Self.endMarker)
        try json.write(to: FileManager.default.temporaryDirectory.appendingPathComponent("lsnet-bench-result.json"))
        XCTAssertFalse(results.rows.isEmpty)
    }

    func testStatisticsMatchNumpyPercentiles() {
        let stats = LatencyStats(samples: [4, 1, 3, 2, 5])
        XCTAssertEqual(stats.p50, 3)
        XCTAssertEqual(stats.p90, 4.6, accuracy: 1e-12)
        XCTAssertEqual(stats.min, 1)
        XCTAssertEqual(stats.mean, 3)
        XCTAssertEqual(stats.std, 2.0.squareRoot(), accuracy: 1e-12)
    }
}
