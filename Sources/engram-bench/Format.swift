/// Number formatting without Foundation: thousands separators, fixed decimals, rates, durations, ratios.
enum Format {
    /// `1234567` → `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// `fixed(3.14159, 2)` → `3.14`; the integer part grouped.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled - Double(whole) * scale)
        var text = grouped(whole)
        if decimals > 0 {
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: max(0, decimals - digits.count)) + digits
        }
        return (value < 0 && scaled != 0 ? "-" : "") + text
    }

    /// A rate with about three significant digits: `1,234 saves/s`, `56.7 saves/s`.
    static func rate(_ perSecond: Double, _ unit: String) -> String {
        let decimals = perSecond >= 100 ? 0 : (perSecond >= 10 ? 1 : 2)
        return fixed(perSecond, decimals) + " " + unit
    }

    /// `0.0123` → `12.3 ms`, `2.5` → `2.50 s`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 0.001 { return fixed(seconds * 1e6, 0) + " µs" }
        if seconds < 1 { return fixed(seconds * 1e3, seconds < 0.01 ? 2 : 1) + " ms" }
        return fixed(seconds, 2) + " s"
    }

    /// `2.345` → `2.35x`.
    static func ratio(_ value: Double) -> String {
        fixed(value, value >= 100 ? 0 : 2) + "x"
    }

    /// `8123` → `7.9 KiB`.
    static func bytes(_ count: Int) -> String {
        if count < 1024 { return "\(count) B" }
        if count < 1 << 20 { return fixed(Double(count) / 1024, 1) + " KiB" }
        if count < 1 << 30 { return fixed(Double(count) / 1_048_576, 1) + " MiB" }
        return fixed(Double(count) / 1_073_741_824, 2) + " GiB"
    }

    /// Pads to `width` columns (left-aligned by default).
    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text }
        let padding = String(repeating: " ", count: width - count)
        return right ? padding + text : text + padding
    }
}
