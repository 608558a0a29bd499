import Foundation
import NIOConcurrencyHelpers

/// Simulated users for `whisperctl demo`: each connects, looks for a partner, chats (typing
/// first), sometimes reports, leaves, goes offline for a while and comes back. The pace follows
/// a slow wave with occasional bursts, so the dashboard's graphs move. Everything goes through
/// the real protocol to a real server.
public final class DemoCrowd: Sendable {
    public struct Stats: Sendable, Equatable {
        public var online = 0
        public var matches = 0
        public var sent = 0
        public var received = 0
        public var reports = 0
        public var leaves = 0
        public var errors = 0
        /// The last thing that went wrong, for the summary.
        public var lastError: String?
    }

    public let host: String
    public let port: Int
    public let users: Int
    private let state = NIOLockedValueBox(Stats())
    private let started = ContinuousClock.now

    public init(host: String = "127.0.0.1", port: Int, users: Int = 60) {
        self.host = host
        self.port = port
        self.users = users
    }

    public var stats: Stats { state.withLockedValue { $0 } }

    /// Runs the users until the task is cancelled; each closes its connection on the way out.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for index in 0..<users {
                group.addTask {
                    // Arrivals spread over the first seconds rather than all at once.
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 0...2000)))
                    await self.live(user: index)
                }
            }
        }
    }

    /// How busy the crowd is now: a 60-second wave between 0.3 and 1, and a 5-second burst of
    /// five times that every 30 seconds.
    func intensity() -> Double {
        let elapsed = Double((ContinuousClock.now - started).components.seconds)
        let wave = 0.65 + 0.35 * sin(elapsed * 2 * .pi / 60)
        let burst = elapsed.truncatingRemainder(dividingBy: 30) >= 20 && elapsed.truncatingRemainder(dividingBy: 30) < 25
        return wave * (burst ? 5 : 1)
    }

    private static let interests = ["music", "films", "games", "books", "travel", "food", "sport", "art"]
    private static let lines = [
        "hi!", "hey, how are you?", "where are you from?", "what are you listening to lately?", "same here",
        "ha, good one", "have you seen anything good recently?", "I should go soon", "nice talking to you", "cool",
    ]

    private func live(user: Int) async {
        while !Task.isCancelled {
            do {
                try await session(user: user)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                state.withLockedValue {
                    $0.errors += 1
                    $0.lastError = "\(error)"
                }
            }
            // Offline for a while before coming back.
            try? await Task.sleep(for: .milliseconds(Int.random(in: 1000...6000)))
        }
    }

    /// One connection: a few chats, then gone.
    private func session(user: Int) async throws {
        let client = try await WebSocketClient.connect(host: host, port: port, timeout: .seconds(5))
        state.withLockedValue { $0.online += 1 }
        defer { state.withLockedValue { $0.online -= 1 } }
        do {
            for _ in 0..<Int.random(in: 1...3) {
                try Task.checkCancellation()
                try await chat(client, user: user)
            }
            await client.close()
        } catch {
            await client.close(code: 1001)
            throw error
        }
    }

    /// Finds a partner, talks, leaves (sometimes reporting first).
    private func chat(_ client: WebSocketClient, user: Int) async throws {
        let chosen = Array(Self.interests.shuffled().prefix(Int.random(in: 0...2)))
        let interestList = chosen.map { "\"\($0)\"" }.joined(separator: ",")
        try await client.send(text: #"{"type":"find","interests":[\#(interestList)]}"#)
        // Wait for the match; no_match means looking again.
        var matched = false
        while !matched {
            try Task.checkCancellation()
            switch try await client.next(timeout: .seconds(40)) {
            case .text(let text) where text.contains(#""type":"matched""#):
                matched = true
                state.withLockedValue { $0.matches += 1 }
            case .text(let text) where text.contains(#""type":"no_match""#):
                try await client.send(text: #"{"type":"find"}"#)
            case .closed(let code):
                throw OpsError(.protocolError, "closed while waiting for a match (code \(code.map(String.init) ?? "none"))")
            default:
                continue
            }
        }
        let planned = Int.random(in: 2...12)
        var said = 0
        while said < planned {
            try Task.checkCancellation()
            // The first line comes soon after the match, as people say hi; then they take their time.
            let pause = (said == 0 ? Double.random(in: 0.2...1.0) : Double.random(in: 0.8...4)) / intensity()
            do {
                switch try await client.next(timeout: .milliseconds(Int(pause * 1000))) {
                case .text(let text) where text.contains(#""type":"message""#):
                    state.withLockedValue { $0.received += 1 }
                case .text(let text) where text.contains(#""type":"partner_left""#):
                    return
                case .closed(let code):
                    throw OpsError(.protocolError, "closed during a chat (code \(code.map(String.init) ?? "none"))")
                default:
                    continue
                }
            } catch let error as OpsError where error.code == .timedOut {
                // Our turn: type a little, then say something.
                try await client.send(text: #"{"type":"typing"}"#)
                try await Task.sleep(for: .milliseconds(Int.random(in: 100...600)))
                said += 1
                let line = Self.lines.randomElement()!
                try await client.send(text: #"{"type":"message","text":"\#(line)","client_id":"u\#(user)-\#(said)-\#(UInt32.random(in: 0...UInt32.max))"}"#)
                state.withLockedValue { $0.sent += 1 }
            }
        }
        if Int.random(in: 0..<20) == 0 {
            try await client.send(text: #"{"type":"report","reason":"demo: a simulated report"}"#)
            state.withLockedValue { $0.reports += 1 }
        }
        try await client.send(text: #"{"type":"leave"}"#)
        state.withLockedValue { $0.leaves += 1 }
    }
}
