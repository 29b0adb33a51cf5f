// swift-tools-version:6.0
// Engram: a durable, inspectable storage engine for the long-term memory of AI agents.
import PackageDescription

let package = Package(
    name: "Engram",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Engram", targets: ["Engram"]),
        .library(name: "EngramCLI", targets: ["EngramCLI"]),
        .executable(name: "engram", targets: ["engram"]),
        .executable(name: "engram-graph", targets: ["engram-graph"]),
        .executable(name: "engram-mcp", targets: ["engram-mcp"]),
        .executable(name: "engram-bench", targets: ["engram-bench"]),
        .executable(name: "engram-text-bench", targets: ["engram-text-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
    ],
    targets: [
        // MARK: System libraries (thin module maps; installed by tools/setup.sh)
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .systemLibrary(
            name: "CXXHash",
            pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"])]
        ),
        // A thin extern "C" shim over Debian's static C++ libfaiss.a (which ships no c_api symbols).
        .target(
            name: "CFaissShim",
            // openmp/ holds a minimal omp.h for faiss/impl/HNSW.h (the toolchain's clang has none).
            cxxSettings: [.headerSearchPath("openmp")],
            linkerSettings: [
                .linkedLibrary("faiss"), .linkedLibrary("gomp"), .linkedLibrary("lapack"),
                .linkedLibrary("blas"), .linkedLibrary("m"), .linkedLibrary("stdc++"),
            ]
        ),

        /// Float32 distance kernels and the PQ lookup, AVX2/FMA chosen at run time with a scalar fallback.
        .target(name: "CEngramKernels"),

        /// One Linux call Swift's Glibc module does not expose (renameat2 with RENAME_EXCHANGE).
        .target(name: "CEngramSys"),

        // MARK: Engram modules
        /// A strict, allocation-light JSON reader and a pretty printer (2-space indent) that keeps numbers as written.
        .target(name: "EngramJSON"),
        /// The libuv event loop, the atomic write protocol with group commit, the error type, fault injection.
        .target(name: "EngramIO", dependencies: ["CLibUV", "CEngramSys", "CXXHash"]),
        /// The FAISS-backed L1 vector tier.
        .target(name: "EngramVector", dependencies: ["CFaissShim"]),
        /// The L2 tier's engine: Vamana graph build, the on-disk format (docs/GRAPH.md), mmapped search.
        .target(name: "EngramGraph", dependencies: ["CEngramKernels", "EngramVector", "EngramIO", "EngramJSON", "CXXHash"]),
        /// The keyword tier's engine: tokenizer, BM25, the mmapped segment format (docs/KEYWORDS.md) with an in-memory delta.
        .target(name: "EngramText", dependencies: ["EngramIO", "CXXHash"]),
        /// The store: records, central index, journal, cache.
        .target(name: "Engram", dependencies: [
            "EngramIO", "EngramJSON", "EngramVector", "EngramGraph", "EngramText", "CEngramKernels", "CXXHash", .product(name: "Logging", package: "swift-log"),
        ]),
        /// `engram mcp`: the store as a Model Context Protocol server (tools and resources over stdio). A target of
        /// its own so the `Engram` library a host program imports never pulls in the MCP SDK.
        .target(name: "EngramMCP", dependencies: [
            "Engram", "EngramIO", "EngramJSON", .product(name: "MCP", package: "swift-sdk"),
        ]),
        /// The `engram` commands, as a library so tests can run them.
        .target(name: "EngramCLI", dependencies: [
            "Engram", "EngramIO", "EngramJSON",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], resources: [.copy("Resources")]),
        .executableTarget(name: "engram", dependencies: ["EngramCLI"]),
        /// The server behind `engram mcp` (which execs it): kept out of `engram`, whose every command would
        /// otherwise load the MCP SDK's networking libraries at start.
        .executableTarget(name: "engram-mcp", dependencies: [
            "EngramCLI", "EngramMCP", "Engram", "EngramIO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
        ]),
        /// `engram-graph build`: the L2 graph builder, a process of its own (the store launches it in the background).
        .executableTarget(name: "engram-graph", dependencies: ["EngramCLI"]),
        .executableTarget(name: "engram-bench", dependencies: ["Engram", "EngramIO", "EngramJSON"]),
        /// The crash and fault suite: the writer workload's audit, shared by the tests and `engram-faults`.
        .target(name: "EngramFaultSuite", dependencies: ["Engram", "EngramIO", "EngramJSON", "CEngramSys"]),
        /// Runs every fault scenario (kill -9, power cut, full disk, permissions, hostile input): `N passed, N failed`.
        .executableTarget(name: "engram-faults", dependencies: ["EngramFaultSuite", "Engram", "EngramIO", "EngramJSON", "CEngramSys"]),
        /// Test helper: a writer that prints `ACK` lines only after the store acknowledged; killed by crash tests.
        .executableTarget(name: "engram-crash-writer", dependencies: ["Engram", "EngramIO", "EngramJSON"]),
        /// Fuzzes the JSON reader and record decoding: a regression runner over saved inputs; with -DENGRAM_FUZZ and
        /// -sanitize=fuzzer,address on the command line (tools/fuzz.sh), the libFuzzer binary.
        .executableTarget(name: "engram-fuzz", dependencies: ["Engram", "EngramIO", "EngramJSON"]),
        /// Figures for the graph engine: kernels vs a plain loop, build and search vs FAISS HNSW and flat.
        .executableTarget(name: "engram-graph-bench", dependencies: ["EngramGraph", "EngramVector", "EngramIO", "EngramJSON", "CEngramKernels"]),
        /// Figures for the keyword engine: build, write, open, bytes, µs per query, recall@10 on the dev texts.
        .executableTarget(name: "engram-text-bench", dependencies: ["EngramText", "EngramIO"]),
        .executableTarget(name: "engram-example-host", dependencies: ["Engram"], path: "Examples/HostProgram"),

        // MARK: Tests
        /// Helpers every test target shares: temporary directories, seeded generators, the built executables, a
        /// Python with FAISS. A plain target (not a test target) so test targets can depend on it.
        .target(name: "EngramTestSupport", path: "Tests/EngramTestSupport"),
        .testTarget(name: "EngramJSONTests", dependencies: ["EngramTestSupport", "EngramJSON"]),
        .testTarget(name: "EngramIOTests", dependencies: ["EngramTestSupport", "EngramIO"]),
        .testTarget(name: "EngramVectorTests", dependencies: ["EngramTestSupport", "EngramVector"]),
        .testTarget(name: "EngramGraphTests", dependencies: ["EngramTestSupport", "EngramGraph", "CEngramKernels", "EngramVector", "EngramIO", "EngramJSON"]),
        .testTarget(name: "EngramTextTests", dependencies: ["EngramTestSupport", "EngramText", "EngramIO"]),
        .testTarget(name: "EngramTests", dependencies: ["EngramTestSupport", "Engram", "EngramIO", "EngramJSON", "EngramFaultSuite"]),
        .testTarget(name: "EngramCLITests", dependencies: ["EngramTestSupport", "EngramCLI", "Engram", "EngramIO", "EngramJSON"]),
        .testTarget(name: "EngramMCPTests", dependencies: [
            "EngramTestSupport", "EngramMCP", "Engram", "EngramIO", "EngramJSON", .product(name: "MCP", package: "swift-sdk"),
        ]),
    ],
    swiftLanguageModes: [.v6],
    // C++17 for the FAISS headers, set the supported way: `unsafeFlags` would make SwiftPM refuse this package
    // as a dependency pinned by version. No -fopenmp: the shim only calls omp_set_num_threads, linked from gomp.
    cxxLanguageStandard: .cxx17
)
