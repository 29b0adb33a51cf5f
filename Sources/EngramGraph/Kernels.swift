import CEngramKernels

/// Swift access to the C distance kernels (AVX2/FMA or scalar, chosen once at run time).
package enum Kernels {
    /// "avx2+fma" or "scalar".
    package static var isa: String { String(cString: engram_kernels_isa()) }

    /// Forces the scalar kernels (process-wide), for tests and the benchmark's baseline.
    package static func forceScalar(_ on: Bool) { engram_kernels_force_scalar(on ? 1 : 0) }

    @inline(__always)
    package static func l2sq(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        engram_l2sq(a, b, d)
    }

    @inline(__always)
    package static func ip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        engram_ip(a, b, d)
    }
}
