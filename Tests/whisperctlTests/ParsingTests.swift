import OpsKit
import Testing

@testable import whisperctl

@Suite struct CommandParsingTests {
    @Test func statusDefaultsAndFlags() throws {
        let plain = try Status.parse([])
        #expect(plain.timeout == .seconds(2))
        #expect(plain.watch == nil)
        #expect(!plain.json)
        #expect(try Status.parse(["--watch"]).watch == 2)
        #expect(try Status.parse(["--watch", "5", "--json"]).watch == 5)
        #expect(try Status.parse(["--timeout", "500ms"]).timeout == .milliseconds(500))
        #expect(throws: (any Error).self) { try Status.parse(["--timeout", "0"]) }
        #expect(throws: (any Error).self) { try Status.parse(["--watch", "0"]) }
    }

    @Test func inventoryFlagsBecomeTheHighestLayer() throws {
        let status = try Status.parse(["--redis", "10.0.0.9:6379", "--server", "a=http://a:8080", "--server", "b=http://b:8080"])
        let flags = status.inventory.flagValues
        #expect(flags[.redisAddr] == ConfigValue(.scalar("10.0.0.9:6379"), source: .flag("--redis")))
        guard case .servers(let servers)? = flags[.servers]?.content else {
            Issue.record("servers flag missing")
            return
        }
        #expect(servers.map(\.name) == ["a", "b"])
        #expect(servers.map(\.url) == ["http://a:8080", "http://b:8080"])
    }

    @Test func colourOnlyOnATerminalAndNeverWithNoColor() {
        #expect(Terminal(isTTY: true, environment: [:]).useColor)
        #expect(!Terminal(isTTY: false, environment: [:]).useColor)
        #expect(!Terminal(isTTY: true, environment: ["NO_COLOR": "1"]).useColor)
        #expect(Terminal(isTTY: true, environment: ["NO_COLOR": ""]).useColor)
        #expect(!Terminal(isTTY: true, environment: ["TERM": "dumb"]).useColor)
        #expect(Terminal(isTTY: true, environment: [:]).paint("x", .red) == "\u{1B}[31mx\u{1B}[0m")
        #expect(Terminal(isTTY: false, environment: [:]).paint("x", .red) == "x")
    }

    @Test func tablesAlignColumns() {
        let table = Table(headers: ["A", "LONGER"], rows: [["xyz", "1"], ["q", "22"]])
        #expect(table.render() == "A    LONGER\nxyz  1\nq    22")
    }
}
