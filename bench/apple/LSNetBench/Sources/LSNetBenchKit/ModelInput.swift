import CoreML
import CoreVideo
import Foundation

public enum BenchError: Error, CustomStringConvertible {
    case unsupportedInput(String)
    case noModels(String)
    case pixelBuffer(CVReturn)

    public var description: String {
        switch self {
        case .unsupportedInput(let name): return "input '\(name)' is neither an image nor a multi-array"
        case .noModels(let folder): return "no .mlpackage/.mlmodel/.mlmodelc in \(folder)"
        case .pixelBuffer(let status): return "cannot allocate a pixel buffer (CVReturn \(status))"
        }
    }
}

/// A deterministic input for every input of `description`: a colour-gradient image for image
/// inputs (the LSNet export takes RGB 0..255 and normalizes inside the model), values in 0..1
/// for multi-array inputs. Built once, outside the timed loop.
public func makeInput(for description: MLModelDescription) throws -> MLFeatureProvider {
    var features: [String: MLFeatureValue] = [:]
    for (name, input) in description.inputDescriptionsByName {
        if let constraint = input.imageConstraint {
            features[name] = MLFeatureValue(pixelBuffer: try gradientImage(constraint))
        } else if let constraint = input.multiArrayConstraint {
            let shape = constraint.shape.isEmpty ? [1] : constraint.shape
            let array = try MLMultiArray(shape: shape, dataType: constraint.dataType == .float16 ? .float16 : .float32)
            for i in 0..<array.count { array[i] = NSNumber(value: Float(i % 256) / 255) }
            features[name] = MLFeatureValue(multiArray: array)
        } else {
            throw BenchError.unsupportedInput(name)
        }
    }
    return try MLDictionaryFeatureProvider(dictionary: features)
}

private func gradientImage(_ constraint: MLImageConstraint) throws -> CVPixelBuffer {
    let width = constraint.pixelsWide, height = constraint.pixelsHigh
    var buffer: CVPixelBuffer?
    let attributes = [kCVPixelBufferIOSurfacePropertiesKey: [:]] as CFDictionary
    let argb = constraint.pixelFormatType == kCVPixelFormatType_32ARGB  // else BGRA, which Core ML converts
    let format = argb ? kCVPixelFormatType_32ARGB : kCVPixelFormatType_32BGRA
    let status = CVPixelBufferCreate(kCFAllocatorDefault, width, height, format, attributes, &buffer)
    guard status == kCVReturnSuccess, let pixels = buffer else { throw BenchError.pixelBuffer(status) }
    CVPixelBufferLockBaseAddress(pixels, [])
    defer { CVPixelBufferUnlockBaseAddress(pixels, []) }
    let rowBytes = CVPixelBufferGetBytesPerRow(pixels)
    let base = CVPixelBufferGetBaseAddress(pixels)!.assumingMemoryBound(to: UInt8.self)
    for y in 0..<height {
        for x in 0..<width {
            let p = base + y * rowBytes + x * 4
            let red = UInt8(((x + y) * 255) / max(width + height - 2, 1))
            let green = UInt8((y * 255) / max(height - 1, 1))
            let blue = UInt8((x * 255) / max(width - 1, 1))
            (p[0], p[1], p[2], p[3]) = argb ? (255, red, green, blue) : (blue, green, red, 255)
        }
    }
    return pixels
}
