import Foundation

/// One benchmark run in the lsnet-bench/1 schema (bench/schemas/results.schema.json).
public struct BenchResults: Codable {
    public var schema = "lsnet-bench/1"
    public var created: String
    public var environment: Environment
    public var settings: Settings
    public var rows: [Row]

    public struct Environment: Codable {
        public var machine: String
        public var os: String
        public var cpu: String?
        public var cores: Int?
        public var source = "swift-benchmark"
        public var versions: [String: String]
    }

    public struct Settings: Codable {
        public var warmup_iters: Int
        public var rounds: Int
        public var protocol_: String
        enum CodingKeys: String, CodingKey {
            case warmup_iters, rounds
            case protocol_ = "protocol"
        }
    }

    public struct Row: Codable {
        public var target: String
        public var model: String?
        public var runtime = "coreml"
        public var device: String
        public var precision: String
        public var ska: String?
        public var batch = 1
        public var img_size: [Int]?
        public var latency_ms: LatencyStats
        public var throughput_ips: Double
        public var iterations: Int
        public var status = "ok"
        public var metadata: [String: String]
    }

    /// Pretty, key-sorted JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// UTC ISO-8601 timestamp.
public func utcTimestamp(_ date: Date = Date()) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
}
