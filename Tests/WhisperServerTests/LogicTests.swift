import Foundation
import NIOCore
import OpsKit
import TestSupport
import Testing

@testable import WhisperServerCore

/// The server's pure logic, without I/O.
@Suite struct LogicTests {
    @Test func moderationMatchesWholeWordsInAnyCase() {
        let moderation = Moderation(words: ["badword", "x-rated"])
        #expect(moderation.blocks("a BadWord here"))
        #expect(moderation.blocks("x-rated!"))
        #expect(!moderation.blocks("badwords are fine"))
        #expect(!moderation.blocks("clean"))
        #expect(moderation.blocks("ünïcode and badword"))
        let phrases = Moderation(words: ["very bad phrase"])
        #expect(phrases.blocks("a Very Bad Phrase indeed"))
        #expect(!phrases.blocks("very bad"))
    }

    @Test func matchmakerPrefersSameSetThenSharedThenFallback() {
        let start = ContinuousClock.now
        var matchmaker = Matchmaker(fallback: .seconds(5), timeout: .seconds(30))
        #expect(matchmaker.find(session: "a", interests: ["x", "y"], now: start) == nil)
        #expect(matchmaker.find(session: "b", interests: ["z"], now: start) == nil)
        #expect(matchmaker.find(session: "w", interests: ["x"], now: start)?.first.session == "a")
        #expect(matchmaker.find(session: "a2", interests: ["x", "y"], now: start) == nil)
        #expect(matchmaker.find(session: "s", interests: ["q"], now: start) == nil)
        let sameSet = matchmaker.find(session: "c", interests: ["y", "x"], now: start)
        #expect(sameSet?.first.session == "a2")
        #expect(sameSet?.commonInterests == ["x", "y"])
        let shared = matchmaker.find(session: "d", interests: ["z", "k"], now: start)
        #expect(shared?.first.session == "b")
        #expect(shared?.commonInterests == ["z"])
        #expect(matchmaker.find(session: "e", interests: ["nothing-shared"], now: start) == nil)
        var fresh = Matchmaker(fallback: .seconds(5), timeout: .seconds(30))
        _ = fresh.find(session: "a", interests: ["x"], now: start)
        #expect(fresh.find(session: "b", interests: ["y"], now: start) == nil)
        let swept = fresh.sweep(now: start + .seconds(6))
        #expect(swept.matches.count == 1)
        #expect(swept.matches[0].commonInterests == [])
        _ = fresh.find(session: "c", interests: ["q"], now: start)
        #expect(fresh.sweep(now: start + .seconds(31)).expired.map(\.session) == ["c"])
    }

    @Test func rateLimiterWarnsThenCloses() {
        var limiter = RateLimiter(maxMessages: 3, maxBytes: 1000)
        let now = ContinuousClock.now
        for _ in 0..<3 { #expect(limiter.record(bytes: 10, at: now) == .allow) }
        #expect(limiter.record(bytes: 10, at: now) == .limit)
        for _ in 0..<(RateLimiter.toleratedDrops - 1) { #expect(limiter.record(bytes: 10, at: now) == .limit) }
        #expect(limiter.record(bytes: 10, at: now) == .close)
        #expect(limiter.record(bytes: 10, at: now + .seconds(11)) == .allow)
        var bytes = RateLimiter(maxMessages: 100, maxBytes: 100)
        #expect(bytes.record(bytes: 101, at: now) == .limit)
    }

    @Test func goStyleDurations() {
        #expect(Duration(parsing: "10s") == .seconds(10))
        #expect(Duration(parsing: "1m30s") == .seconds(90))
        #expect(Duration(parsing: "250ms") == .milliseconds(250))
        #expect(Duration(parsing: "3") == .seconds(3))
        #expect(Duration(parsing: "10 parsecs") == nil)
        #expect(Duration(parsing: "") == nil)
        // Values that used to trap converting to Int64, and other nonsense.
        for text in ["1e300", "1e300s", "9999999999h", "inf", "nan", "-1s", "1..5s", "1m30"] {
            #expect(Duration(parsing: text) == nil, "\(text)")
        }
    }

    @Test func configurationRefusesBadValuesNamingTheVariable() throws {
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.fromEnvironment(["MAX_CONNECTIONS": "0"]) }
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.fromEnvironment(["LISTEN_ADDR": "nope"]) }
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.fromEnvironment(["LOG_FORMAT": "xml"]) }
        let config = try ServerConfiguration.fromEnvironment(["LISTEN_ADDR": ":9090", "DRAIN_TIMEOUT": "45s"])
        #expect(config.port == 9090)
        #expect(config.host == "0.0.0.0")
        #expect(config.drainTimeout == .seconds(45))
    }
}

@Suite struct ServerMessageEncodingTests {
    @Test func theFastPathWritesWhatJSONValueWould() throws {
        let samples: [ServerMessage] = [
            .message(id: 1_732_000_000_123_456, text: "plain text", sentAt: 1_732_000_000_123),
            .message(id: 7, text: "quote \" backslash \\ newline \n tab \t é 😀", sentAt: 0),
            .ack(clientID: "c-1", id: 9), .ack(clientID: nil, id: 10), .ack(clientID: "we\"ird", id: 11),
            .partnerBack, .welcome(session: "s", resumeToken: "t", server: "ws", resumed: true, chat: nil),
        ]
        for message in samples {
            var buffer = ByteBuffer()
            message.encode(into: &buffer)
            let written = try JSONValue.parse(Array(buffer.readableBytesView))
            #expect(written == message.json, "\(message)")
        }
    }
}

@Suite struct RateCarryOverTests {
    @Test func aWindowSurvivesAHandOverAndExpiresOnTime() {
        let start = ContinuousClock.now
        var limiter = RateLimiter(maxMessages: 3, maxBytes: 1000)
        for _ in 0..<3 { #expect(limiter.record(bytes: 10, at: start) == .allow) }
        let counters = limiter.counters(now: start + .seconds(2), wallClockMs: 100_000)
        #expect(counters == RateCounters(windowStartMs: 98_000, messages: 3, bytes: 30))

        var resumed = RateLimiter(maxMessages: 3, maxBytes: 1000)
        let later = ContinuousClock.now
        resumed.restore(counters!, now: later, wallClockMs: 101_000)
        #expect(resumed.record(bytes: 10, at: later) == .limit)
        // The window began 3 s before `later`: 7 s on, a new one starts.
        #expect(resumed.record(bytes: 10, at: later + .seconds(7)) == .allow)

        var stale = RateLimiter(maxMessages: 3, maxBytes: 1000)
        stale.restore(counters!, now: later, wallClockMs: 200_000)
        #expect(stale.record(bytes: 10, at: later) == .allow)
    }
}

@Suite struct ServerHelpTests {
    /// `whisper-server --help` lists every variable the server reads, with its default.
    @Test func helpListsEveryEnvironmentVariable() throws {
        let source = try String(contentsOfFile: Repository.path("Sources/WhisperServerCore/Server/ServerConfiguration.swift"), encoding: .utf8)
        let pattern = try Regex(#"(?:text|positive|duration|environment\[)\(?"([A-Z][A-Z0-9_]+)""#)
        let read = Set(source.matches(of: pattern).map { String($0.output[1].substring ?? "") })
        #expect(read.count > 25)
        let listed = Set(ServerConfiguration.variables.map(\.name))
        #expect(read.subtracting(listed).isEmpty, "not in --help: \(read.subtracting(listed).sorted())")
        let run = try Command.capture(WhisperServerProcess.binary, ["--help"], environment: ["MAX_CONNECTIONS": "not a number"], directory: "/")
        #expect(run.status == 0, "--help works whatever the environment")
        for name in read { #expect(run.stdout.contains(name)) }
        let version = try Command.capture(WhisperServerProcess.binary, ["--version"], environment: [:], directory: "/")
        #expect(version.status == 0 && version.stdout.hasPrefix("whisper-server "))
        let bad = try Command.capture(WhisperServerProcess.binary, ["--bogus"], environment: [:], directory: "/")
        #expect(bad.status == 64)
    }
}
