import Engram
import EngramIO
import EngramJSON

/// One measured figure: Engram against a baseline measured in the same run, and the goal it is held to.
struct Figure: Sendable {
    enum Measure: Sendable {
        /// Things per second (higher is better); the ratio is Engram's rate over the baseline's.
        case rate(unit: String)
        /// Seconds (lower is better); the ratio is Engram's time over the baseline's.
        case time
        /// Bytes (lower is better); the ratio is Engram's size over the baseline's.
        case bytes
    }

    enum Goal: Sendable {
        case none
        /// Engram ÷ baseline at least this.
        case ratioAtLeast(Double)
        /// Engram's time under this many seconds.
        case secondsBelow(Double)
        /// Engram's rate at least this.
        case rateAtLeast(Double, unit: String)
    }

    let key: String
    let title: String
    let measure: Measure
    let engram: Double
    let baseline: Double
    /// What the baseline is, briefly (the table); the full description goes to the report's baselines.
    let baselineName: String
    let goal: Goal
    var notes: [String] = []

    var ratio: Double { engram / baseline }

    var passed: Bool? {
        switch goal {
        case .none: return nil
        case .ratioAtLeast(let minimum): return ratio >= minimum
        case .secondsBelow(let limit): return engram < limit
        case .rateAtLeast(let minimum, _): return engram >= minimum
        }
    }

    var goalText: String {
        switch goal {
        case .none: return "-"
        case .ratioAtLeast(let minimum): return ">= " + Format.ratio(minimum)
        case .secondsBelow(let limit): return "< " + Format.duration(limit)
        case .rateAtLeast(let minimum, let unit): return ">= " + Format.rate(minimum, unit)
        }
    }

    var resultText: String { passed.map { $0 ? "PASS" : "MISS" } ?? "info" }

    func formatted(_ value: Double) -> String {
        switch measure {
        case .rate(let unit): return Format.rate(value, unit)
        case .time: return Format.duration(value)
        case .bytes: return Format.fixed(value, 1) + " B"
        }
    }
}

/// Everything a run measured, as a table (text) or a JSON document.
struct Report: Sendable {
    var machine: MachineFacts
    var setup: [MachineFacts.Fact] = []
    var figures: [Figure] = []
    var baselines: [String] = []
    var notes: [String] = []
    /// Tables printed as they are after the figures (the text-search evaluation).
    var tables: [(title: String, lines: [String])] = []
    var totalSeconds = 0.0

    // MARK: Text

    func text() -> String {
        var lines: [String] = []
        lines.append("Engram benchmark")
        if !MachineFacts.isReleaseBuild { lines.append("WARNING: this is a DEBUG build; the figures mean nothing. Build with `-c release`.") }
        lines.append("")
        let facts = machine.facts + setup
        let labelWidth = (facts.map(\.label.count).max() ?? 0) + 2
        for fact in facts { lines.append("  " + Format.pad(fact.label, labelWidth) + fact.value) }
        lines.append("")

        let header = ["#", "figure", "Engram", "baseline", "ratio", "goal", "result"]
        var rows = figures.map { f in
            [f.key, f.title, f.formatted(f.engram), f.formatted(f.baseline) + " (" + f.baselineName + ")", Format.ratio(f.ratio), f.goalText, f.resultText]
        }
        rows.insert(header, at: 0)
        let rightAligned: Set<Int> = [2, 4]
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (i, row) in rows.enumerated() {
            let cells = row.indices.map { Format.pad(row[$0], widths[$0], right: rightAligned.contains($0)) }
            lines.append("  " + cells.joined(separator: "  ").trimmedTrailing)
            if i == 0 { lines.append("  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        let judged = figures.compactMap(\.passed)
        lines.append("")
        lines.append("  goals met: \(judged.filter { $0 }.count) of \(judged.count)"
                     + "    ratio = Engram ÷ baseline (rates: higher is better; times: lower is better)")

        for table in tables {
            lines.append("")
            lines.append(table.title)
            lines += table.lines.map { "  " + $0 }
        }

        if !baselines.isEmpty {
            lines.append("")
            lines.append("Baselines")
            for baseline in baselines { lines += Report.wrap(baseline) }
        }
        let figureNotes = figures.flatMap { f in f.notes.map { "\(f.key): \($0)" } }
        if !figureNotes.isEmpty || !notes.isEmpty {
            lines.append("")
            lines.append("Notes")
            for note in figureNotes + notes.map({ "- " + $0 }) { lines += Report.wrap(note) }
        }
        lines.append("")
        lines.append("Total run time: " + Format.duration(totalSeconds))
        return lines.joined(separator: "\n")
    }

    /// Word-wraps a paragraph to `width` columns, indented by 2, continuation lines by 6.
    static func wrap(_ text: String, width: Int = 112) -> [String] {
        var lines: [String] = []
        var line = "  "
        for word in text.split(separator: " ") {
            if line.count + 1 + word.count > width, !line.trimmed.isEmpty {
                lines.append(line)
                line = "      "
            }
            line += (line.hasSuffix(" ") ? "" : " ") + word
        }
        if !line.trimmed.isEmpty { lines.append(line) }
        return lines
    }

    // MARK: JSON

    func json() -> String {
        func facts(_ list: [MachineFacts.Fact]) -> JSONValue {
            .object(JSONObject(uniqueKeysWithValues: list.map { ($0.key, JSONValue.string($0.value)) }))
        }
        func number(_ value: Double) -> JSONValue { value.isFinite ? .double(value) : .null }
        let figureValues: [JSONValue] = figures.map { f in
            let unit: String
            switch f.measure {
            case .rate(let u): unit = u
            case .time: unit = "s"
            case .bytes: unit = "B"
            }
            var object: JSONObject = [
                "key": .string(f.key),
                "title": .string(f.title),
                "unit": .string(unit),
                "engram": number(f.engram),
                "baseline": number(f.baseline),
                "baseline_name": .string(f.baselineName),
                "ratio": number(f.ratio),
                "goal": .string(f.goalText),
                "result": .string(f.resultText),
            ]
            if let passed = f.passed { object["passed"] = .bool(passed) }
            object["notes"] = .array(f.notes.map { .string($0) })
            return .object(object)
        }
        let judged = figures.compactMap(\.passed)
        let document: JSONValue = .object([
            "release_build": .bool(MachineFacts.isReleaseBuild),
            "machine": facts(machine.facts),
            "setup": facts(setup),
            "figures": .array(figureValues),
            "goals_met": .int(Int64(judged.filter { $0 }.count)),
            "goals_total": .int(Int64(judged.count)),
            "baselines": .array(baselines.map { .string($0) }),
            "notes": .array(notes.map { .string($0) }),
            "tables": .array(tables.map { .object(["title": .string($0.title), "lines": .array($0.lines.map { .string($0) })]) }),
            "total_seconds": number(totalSeconds),
        ])
        return String(decoding: JSONWriter.pretty(document, trailingNewline: false), as: UTF8.self)
    }
}

private extension String {
    var trimmedTrailing: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
