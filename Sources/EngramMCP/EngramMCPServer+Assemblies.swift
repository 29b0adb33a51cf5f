import Engram
import EngramIO
import EngramJSON
import MCP

/// assembly_save, assembly_get, assembly_list, assembly_delete, assembly_add_members, assembly_remove_members.
extension EngramMCPServer {
    func assemblySave(_ arguments: ToolArguments) async throws -> JSONValue {
        let name = try arguments.string("name", required: true)!
        let id = try arguments.string("id")
        if let id { try RecordID.validate(id, operation: arguments.tool) }
        let memoryIDs = try arguments.strings("memory_ids") ?? []
        for member in memoryIDs { try RecordID.validate(member, operation: arguments.tool) }
        let assembly = MemoryAssembly(
            id: id ?? RecordID.generate(prefix: "asm"), name: name, description: try arguments.string("description") ?? "",
            memoryIds: memoryIDs, keywords: try arguments.strings("keywords") ?? [], tags: try arguments.strings("tags") ?? [],
            metadata: try arguments.object("metadata") ?? [:])
        let saved = try await store.save(assembly)
        return .object(["id": .string(saved.id), "assembly": bounded(EngramMCPServer.assemblyJSON(saved))])
    }

    func assemblyGet(_ arguments: ToolArguments) async throws -> JSONValue {
        let id = try arguments.string("id", required: true)!
        let include = try arguments.bool("include_embedding") ?? false
        guard let assembly = try await store.assembly(id) else {
            throw EngramMCPServer.notFound("assembly", id, operation: arguments.tool, path: store.layout.path(of: .assembly, id: id))
        }
        return bounded(EngramMCPServer.assemblyJSON(assembly, includeEmbedding: include))
    }

    func assemblyList(_ arguments: ToolArguments) async throws -> JSONValue {
        let limit = try arguments.integer("limit", default: limits.defaultLimit, range: 1...limits.maxLimit)
        let fingerprint = arguments.fingerprint()
        let after = try PageCursor.decode(from: arguments, fingerprint: fingerprint)?.after
        try await store.refresh()
        var ids = await store.assemblyIDs()
        if let after { ids.removeAll { $0 <= after } }
        var builder = PageBuilder(budget: limits.characterBudget)
        var last: String?
        var more = false
        for id in ids.prefix(limit + 1) {
            // Deleted by another process since the list was taken: skip it rather than fail the page.
            guard let assembly = try await store.assembly(id) else { continue }
            let summary: JSONValue = .object([
                "id": .string(assembly.id), "name": .string(assembly.name), "description": .string(assembly.description),
                "member_count": .int(Int64(assembly.memoryIds.count)), "updated_at": .string(assembly.updatedAt.description),
            ])
            if builder.items.count >= limit || !builder.add(summary) {
                more = true
                break
            }
            last = id
        }
        let next = more ? last.map { PageCursor(tool: arguments.tool, fingerprint: fingerprint, after: $0) } : nil
        return EngramMCPServer.page("assemblies", builder, next: next)
    }

    func assemblyDelete(_ arguments: ToolArguments) async throws -> JSONValue {
        let id = try arguments.string("id", required: true)!
        let deleted = try await store.deleteAssembly(id)
        return .object(["id": .string(id), "deleted": .bool(deleted)])
    }

    /// Adds or removes members by read, change, save-if-unchanged; another writer's change in between (this
    /// process's or another's) makes the save a conflict, and the change is applied again to the new version.
    func assemblyChangeMembers(_ arguments: ToolArguments, adding: Bool) async throws -> JSONValue {
        let id = try arguments.string("id", required: true)!
        try RecordID.validate(id, operation: arguments.tool)
        let members = try arguments.strings("memory_ids", required: true)!
        for member in members { try RecordID.validate(member, operation: arguments.tool) }
        var attempt = 0
        while true {
            attempt += 1
            guard var assembly = try await store.assembly(id) else {
                throw EngramMCPServer.notFound("assembly", id, operation: arguments.tool, path: store.layout.path(of: .assembly, id: id))
            }
            var changed: [String] = []
            if adding {
                var present = Set(assembly.memoryIds)
                for member in members where present.insert(member).inserted {
                    assembly.memoryIds.append(member)
                    changed.append(member)
                }
            } else {
                let removing = Set(members)
                changed = assembly.memoryIds.filter(removing.contains)
                assembly.memoryIds.removeAll(where: removing.contains)
            }
            let saved: MemoryAssembly
            do {
                saved = changed.isEmpty ? assembly : try await store.save(assembly, expectedUpdatedAt: assembly.updatedAt)
            } catch let error as EngramError where error.code == .conflict && attempt < 5 {
                continue
            }
            return .object([
                "id": .string(saved.id), adding ? "added" : "removed": .array(changed.map(JSONValue.string)),
                "assembly": bounded(EngramMCPServer.assemblyJSON(saved)),
            ])
        }
    }
}
