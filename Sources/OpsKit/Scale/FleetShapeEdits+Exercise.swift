/// Feeds arbitrary text to every edit `scale` makes, as the fuzz target `fleet-files` does: none
/// may trap, each diff renders, and a HAProxy server line added then removed leaves the text as
/// it was.
extension FleetShapeEdits {
    package static func exercise(_ text: String) {
        let server = Server(name: "ws9", url: "http://wsserver-9:8080")
        if let grown = try? inventory(text, adding: server, composeService: "wsserver-9", path: "f") {
            _ = FileChange(path: "f", before: text, after: grown).diff
            _ = try? inventory(grown, removing: server.name, path: "f")
        }
        _ = try? inventory(text, removing: "ws1", path: "f")
        if let grown = try? haproxy(text, backend: "ws_servers", adding: server, path: "f") {
            let back = try? haproxy(grown, backend: "ws_servers", removing: server.name, path: "f")
            precondition(back == text, "a HAProxy server line added then removed changed the file")
        }
        _ = runtimeOptions(text, backend: "ws_servers")
        _ = try? prometheus(text, existing: ["wsserver-1:8080"], adding: server, path: "f")
        _ = try? prometheus(text, existing: ["wsserver-1:8080"], removing: .init(name: "ws1", url: "http://wsserver-1:8080"), path: "f")
        if let grown = try? compose(text, model: "wsserver-1", modelName: "ws1", service: "wsserver-9", adding: server, path: "f") {
            _ = FileChange(path: "f", before: text, after: grown).diff
            _ = try? compose(grown, removing: "wsserver-9", path: "f")
        }
        _ = try? compose(text, removing: "wsserver-1", path: "f")
    }
}
