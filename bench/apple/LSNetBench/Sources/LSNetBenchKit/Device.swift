import Foundation

/// Hardware identifier such as "iPhone15,2" or "Mac14,6" (hw.machine on iOS, hw.model on macOS).
public func machineIdentifier() -> String {
    #if os(macOS)
    let key = "hw.model"
    #else
    let key = "hw.machine"
    #endif
    var size = 0
    sysctlbyname(key, nil, &size, nil, 0)
    guard size > 0 else { return "unknown" }
    var buffer = [CChar](repeating: 0, count: size)
    sysctlbyname(key, &buffer, &size, nil, 0)
    return String(cString: buffer)
}

/// "iOS 18.1" / "macOS 15.0".
public func osDescription() -> String {
    let version = ProcessInfo.processInfo.operatingSystemVersion
    #if os(iOS)
    let name = "iOS"
    #elseif os(macOS)
    let name = "macOS"
    #else
    let name = "unknown OS"
    #endif
    return "\(name) \(version.majorVersion).\(version.minorVersion)" + (version.patchVersion > 0 ? ".\(version.patchVersion)" : "")
}

/// CPU brand string where the OS exposes one (macOS), else nil.
public func cpuDescription() -> String? {
    var size = 0
    guard sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 0 else { return nil }
    var buffer = [CChar](repeating: 0, count: size)
    sysctlbyname("machdep.cpu.brand_string", &buffer, &size, nil, 0)
    return String(cString: buffer)
}
