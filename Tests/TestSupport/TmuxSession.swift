import Foundation

/// A detached tmux session on a private server socket, for driving a full-screen program as an
/// operator would: keys in (`send-keys`), the screen out (`capture-pane`).
package final class TmuxSession: Sendable {
    package let name: String
    private let socket: String
    private let tmux: String

    /// Starts `command` (a shell command line) in a `width` × `height` terminal.
    package init(command: String, width: Int = 120, height: Int = 40, environment: [String: String] = [:]) async throws {
        tmux = try Executables.require("tmux")
        name = "whisper"
        socket = "whisper-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var arguments = ["-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)"]
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["-e", "\(key)=\(value)"] }
        arguments.append(command)
        try await run(arguments)
    }

    /// Sends tmux key names ("Enter", "Escape", "Down") or literal text with `literal`.
    package func send(_ keys: String..., literal: Bool = false) async throws {
        try await run(["-L", socket, "send-keys", "-t", name] + (literal ? ["-l"] : []) + keys)
    }

    /// The visible screen, one string per row.
    package func screen() async throws -> String {
        try await run(["-L", socket, "capture-pane", "-p", "-t", name])
    }

    /// Polls the screen until `condition` holds; throws with the last screen after `timeout`.
    @discardableResult
    package func waitForScreen(
        _ description: String, timeout: Duration = .seconds(20), _ condition: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = (try? await screen()) ?? last
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(150))
        }
        throw SupportError("screen never showed \(description) within \(timeout); last screen:\n\(last)")
    }

    package func kill() {
        _ = try? Command.run(tmux, ["-L", socket, "kill-server"])
    }

    deinit { kill() }

    /// Through a file, not a pipe: the tmux server that new-session leaves running would hold a
    /// pipe open forever.
    @discardableResult
    private func run(_ arguments: [String]) async throws -> String {
        let tmux = self.tmux
        return try await Offload.run { try Command.run(tmux, arguments) }
    }
}
