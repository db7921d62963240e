// swift-tools-version:5.9
// LSNetBench: Core ML latency of an exported LSNet (.mlpackage / .mlmodelc) per compute unit,
// written as lsnet-bench/1 JSON (bench/schemas/results.schema.json).
//  - macOS: `swift run -c release lsnet-bench --model lsnet_t_fp16.mlpackage --out result.json`
//  - iPhone: `xcodebuild test` of LSNetBenchTests on a connected device (see ../run_iphone_benchmark.md);
//    the test bundles Tests/LSNetBenchTests/Models/*.mlpackage and prints the JSON between markers.
import PackageDescription

let package = Package(
    name: "LSNetBench",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "LSNetBenchKit", targets: ["LSNetBenchKit"]),
        .executable(name: "lsnet-bench", targets: ["lsnet-bench"]),
    ],
    targets: [
        .target(name: "LSNetBenchKit"),
        .executableTarget(name: "lsnet-bench", dependencies: ["LSNetBenchKit"]),
        .testTarget(
            name: "LSNetBenchTests",
            dependencies: ["LSNetBenchKit"],
            resources: [.copy("Models")]
        ),
    ]
)
