import EngramIO

extension StoreVerifier {
    /// The keyword index (`keyword_index/`) against the records: its files whole (checksum, structure), and each
    /// record indexed at its version. Missing, stale and orphaned documents are what a crash between keyword
    /// checkpoints leaves — pending recovery, one line for all of them; a document newer than its record, or
    /// damaged files, are problems (repair rebuilds the index from the records).
    static func checkKeywordIndex(_ layout: StoreLayout, memories: [String: Timestamp], assemblies: [String: Timestamp])
        -> (problems: [VerifyProblem], pending: [PendingRecovery])
    {
        var problems: [VerifyProblem] = []
        var pending: [PendingRecovery] = []
        let directory = layout.keywordIndexDirectory
        let manifestPath = directory + "/" + KeywordFiles.manifest
        let relative = KeywordFiles.directory
        guard Sys.fileType(manifestPath) == .file else {
            if !memories.isEmpty {
                pending.append(PendingRecovery(kind: .keywordBehind, path: relative, detail: "the keyword index has no checkpoint yet (manifest.json is missing)",
                                               nextOpen: "builds it from the records"))
            }
            return (problems, pending)
        }
        // Checked with the configuration it says it was built with (a host may configure other fields than the CLI).
        let configuration = KeywordTier.manifestConfiguration(directory: directory) ?? KeywordConfiguration()
        let (tier, problem) = KeywordTier.load(directory: directory, configuration: configuration, verifyChecksum: true)
        guard let tier else {
            problems.append(VerifyProblem(kind: .keywordFilesDamaged, path: relative, detail: problem ?? "cannot be loaded",
                                          repair: "rebuild the keyword index from the records"))
            return (problems, pending)
        }
        let damage = tier.check()
        if !damage.isEmpty {
            problems.append(VerifyProblem(kind: .keywordFilesDamaged, path: relative, detail: damage.prefix(3).joined(separator: "; "),
                                          repair: "rebuild the keyword index from the records"))
            return (problems, pending)
        }
        var behind = 0
        var held = Set<String>()
        for document in tier.documents() {
            held.insert(KeywordTier.key(document.kind, document.id))
            let record = document.kind == .memory ? memories[document.id] : assemblies[document.id]
            guard let record, document.kind == .memory || configuration.assemblies else { behind += 1; continue }
            if document.version > record {
                problems.append(VerifyProblem(kind: .keywordAhead, path: "\(document.kind.directoryName)/\(document.id).json", id: document.id,
                                              detail: "the keyword index holds the version of \(document.version), newer than the record's \(record)",
                                              repair: "rebuild the keyword index from the records"))
            } else if document.version < record {
                behind += 1
            }
        }
        behind += memories.keys.filter { !held.contains(KeywordTier.key(.memory, $0)) }.count
        if configuration.assemblies { behind += assemblies.keys.filter { !held.contains(KeywordTier.key(.assembly, $0)) }.count }
        if behind > 0 {
            pending.append(PendingRecovery(kind: .keywordBehind, path: relative,
                                           detail: "\(behind) record\(behind == 1 ? "" : "s") not indexed at \(behind == 1 ? "its" : "their") current version",
                                           nextOpen: "re-indexes \(behind == 1 ? "it" : "them") from the records"))
        }
        return (problems, pending)
    }
}
