import Dispatch
import NIOCore
import NIOEmbedded
import WhisperServerCore

/// Drives one connection of a real hub (embedded state) on a test channel: what a client sends
/// goes through the same handlers as on a socket, with nothing listening.
enum ConnectionDriver {
    static let loop = NIOAsyncTestingEventLoop()
    // RESUME_WINDOW=0: sessions end with their connection, so nothing piles up between inputs.
    static let harness: ConnectionHarness = {
        do {
            return try ConnectionHarness(eventLoop: loop, environment: ["RESUME_WINDOW": "0s", "MAX_CONNS_PER_IP": "100000000"])
        } catch {
            fatalError("the fuzz harness' configuration is invalid: \(error)")
        }
    }()

    /// Makes the hub and runs a first connection through it, so what lives across inputs exists
    /// before the fuzzer starts counting allocations.
    static func warmUp() {
        drive(upgradedTo: "/ws", input: Array("x\u{81}\u{80}\u{0}\u{0}\u{0}\u{0}".utf8))
        drive(upgradedTo: nil, input: Array("xGET /health HTTP/1.1\r\n\r\n".utf8))
    }

    /// - Parameter uri: the upgrade already done (frames follow), or nil for raw HTTP first.
    static func drive(upgradedTo uri: String?, input: [UInt8]) {
        blocking {
            let channel = NIOAsyncTestingChannel(loop: loop)
            _ = try? await channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 40000))
            let harness = self.harness
            do {
                try await loop.submit {
                    if let uri {
                        try harness.configureUpgraded(channel, uri: uri, ip: "127.0.0.1")
                    } else {
                        try harness.configure(channel)
                    }
                }.get()
            } catch {
                return
            }
            if uri != nil { await awaitFirstWrite(channel) }
            for chunk in Chunks(input) {
                guard channel.isActive, (try? await channel.writeInbound(ByteBuffer(bytes: chunk))) != nil else { break }
                await drain(channel)
            }
            _ = try? await channel.close()
            await drain(channel)
        }
    }

    /// The welcome is written once the session is set up (off the event loop); frames that come
    /// earlier are held, which is a path of its own, so the wait is short.
    private static func awaitFirstWrite(_ channel: NIOAsyncTestingChannel) async {
        for _ in 0..<50 {
            if (try? await channel.readOutbound(as: ByteBuffer.self)) != nil { return }
            try? await Task.sleep(for: .microseconds(20))
        }
    }

    private static func drain(_ channel: NIOAsyncTestingChannel) async {
        while (try? await channel.readOutbound(as: ByteBuffer.self)) != nil {}
        while (try? await channel.readOutbound(as: IOData.self)) != nil {}
    }

    private static func blocking(_ body: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await body()
            done.signal()
        }
        done.wait()
    }
}
