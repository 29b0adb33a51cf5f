#if ENGRAM_FUZZ
/// libFuzzer's driver (in the toolchain's libclang_rt.fuzzer, linked by `-sanitize=fuzzer`): parses the
/// libFuzzer flags in argv and calls `callback` with each generated input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The libFuzzer build (`tools/fuzz.sh`, `-DENGRAM_FUZZ -sanitize=fuzzer,address`). SwiftPM links every
/// executable with `main` defined as `<module>_main`, so libFuzzer's own `main` is never used; this
/// stands in for it and hands control to libFuzzer's driver.
@_cdecl("engram_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput)
}

/// Called by libFuzzer for every input. A violated promise traps, so libFuzzer records the input as a
/// crash just as it does for a real crash.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    if let problem = FuzzCheck.check(bytes) {
        fatalError("engram-fuzz: \(problem)")
    }
    return 0
}
#endif
