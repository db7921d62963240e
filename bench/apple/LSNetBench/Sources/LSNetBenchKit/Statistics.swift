import Foundation

/// Latency statistics in milliseconds, the fields of `latency_ms` in lsnet-bench/1.
public struct LatencyStats: Codable, Equatable {
    public let p50: Double
    public let p90: Double
    public let p99: Double
    public let mean: Double
    public let std: Double
    public let min: Double

    /// Statistics of `samples` (milliseconds); percentiles by linear interpolation, like numpy.
    public init(samples: [Double]) {
        precondition(!samples.isEmpty, "no timed iterations")
        let sorted = samples.sorted()
        func percentile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let lower = Int(position.rounded(.down))
            let upper = Swift.min(lower + 1, sorted.count - 1)
            let fraction = position - Double(lower)
            return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
        }
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        let variance = sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(sorted.count)
        self.p50 = percentile(0.50)
        self.p90 = percentile(0.90)
        self.p99 = percentile(0.99)
        self.mean = mean
        self.std = variance.squareRoot()
        self.min = sorted[0]
    }
}
