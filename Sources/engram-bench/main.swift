// Benchmarks land with the next commit.
print("engram-bench: not built yet")
