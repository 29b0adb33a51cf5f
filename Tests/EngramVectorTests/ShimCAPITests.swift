import CFaissShim
import Foundation
import Testing

/// Direct checks of the extern "C" contract (the Swift wrapper validates most arguments
/// before they reach the shim, so these paths are otherwise not exercised).
extension FaissTests {
    @Suite struct ShimCAPI {
        var lastError: String { String(cString: engram_faiss_last_error()) }

        @Test func badArgumentsReturnCodesAndMessages() throws {
            var h: OpaquePointer?
            #expect(engram_faiss_new(4, 7, &h) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(lastError.contains("unknown metric 7"))
            #expect(h == nil) // out-parameters untouched on failure
            #expect(engram_faiss_new(0, ENGRAM_FAISS_METRIC_L2, &h) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(engram_faiss_new(Int64(Int32.max) + 1, ENGRAM_FAISS_METRIC_L2, &h) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(engram_faiss_new(4, ENGRAM_FAISS_METRIC_L2, nil) == ENGRAM_FAISS_E_BAD_ARGUMENT)

            #expect(engram_faiss_new(4, ENGRAM_FAISS_METRIC_INNER_PRODUCT, &h) == ENGRAM_FAISS_OK)
            #expect(lastError == "") // cleared by a successful call
            let index = try #require(h)
            defer { engram_faiss_free(index) }
            #expect(engram_faiss_metric(index) == ENGRAM_FAISS_METRIC_INNER_PRODUCT)
            #expect(engram_faiss_dimension(index) == 4)

            #expect(engram_faiss_add(index, -1, nil, nil) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(engram_faiss_add(index, 1, nil, nil) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(engram_faiss_add(index, 0, nil, nil) == ENGRAM_FAISS_OK)
            var removed: Int64 = 99
            #expect(engram_faiss_remove(index, -1, nil, &removed) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(removed == 99)
            #expect(engram_faiss_remove(index, 0, nil, &removed) == ENGRAM_FAISS_OK && removed == 0)
            var d = [Float](repeating: 0, count: 4), l = [Int64](repeating: 0, count: 4)
            let q: [Float] = [1, 0, 0, 0]
            #expect(engram_faiss_search(index, 1, q, 0, &d, &l) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(lastError.contains("k must be >= 1"))
            #expect(engram_faiss_search(index, .max, q, 2, &d, &l) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(lastError.contains("overflows"))
            // Empty index: every label is -1.
            #expect(engram_faiss_search(index, 1, q, 4, &d, &l) == ENGRAM_FAISS_OK)
            #expect(l == [-1, -1, -1, -1])
            var found: Int32 = 5
            #expect(engram_faiss_reconstruct(index, 1, &d, &found) == ENGRAM_FAISS_OK && found == 0)

            #expect(engram_faiss_set_num_threads(0) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(engram_faiss_get_num_threads() == 1)
        }

        @Test func nullHandlesAreHarmless() {
            engram_faiss_free(nil)
            engram_faiss_buffer_free(nil)
            #expect(engram_faiss_count(nil) == -1)
            #expect(engram_faiss_dimension(nil) == -1)
            #expect(engram_faiss_metric(nil) == -1)
            #expect(engram_faiss_contains(nil, 1) == -1)
            var out: OpaquePointer?
            #expect(engram_faiss_deserialize(nil, 0, &out) == ENGRAM_FAISS_E_FORMAT)
            #expect(engram_faiss_deserialize(nil, 10, &out) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(engram_faiss_read_file(nil, &out) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            #expect(out == nil)
        }

        @Test func lastErrorIsPerThread() throws {
            var h: OpaquePointer?
            #expect(engram_faiss_new(4, 42, &h) == ENGRAM_FAISS_E_BAD_ARGUMENT)
            let mine = lastError
            final class Box: @unchecked Sendable { var value: String? } // handed over via the semaphore
            let box = Box()
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                box.value = String(cString: engram_faiss_last_error())
                done.signal()
            }
            thread.start()
            done.wait()
            #expect(box.value == "")
            #expect(lastError == mine)
        }

        @Test func writeErrorsAreIOErrors() throws {
            guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
            var h: OpaquePointer?
            #expect(engram_faiss_new(4, ENGRAM_FAISS_METRIC_L2, &h) == ENGRAM_FAISS_OK)
            let index = try #require(h)
            defer { engram_faiss_free(index) }
            // Every write(2) to /dev/full fails with ENOSPC: reported, not swallowed.
            #expect(engram_faiss_write_file(index, "/dev/full") == ENGRAM_FAISS_E_IO)
            #expect(lastError.contains("No space left on device"))
        }
    }
}
