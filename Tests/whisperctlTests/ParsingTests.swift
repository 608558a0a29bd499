import OpsKit
import Testing

@testable import whisperctl

@Suite struct CommandParsingTests {
    @Test func statusDefaultsAndFlags() throws {
        let plain = try Status.parse([])
        #expect(plain.timeout == .seconds(2))
        #expect(plain.watch == nil)
        #expect(!plain.json)
        #expect(try Status.parse(["--watch"]).watch == .seconds(2))
        // Every duration flag takes the same forms.
        #expect(try Status.parse(["--watch", "5", "--json"]).watch == .seconds(5))
        #expect(try Status.parse(["--watch", "1s"]).watch == .seconds(1))
        #expect(try Status.parse(["--watch", "1m30s"]).watch == .seconds(90))
        #expect(try Status.parse(["--timeout", "500ms"]).timeout == .milliseconds(500))
        #expect(try Status.parse(["--timeout", "2"]).timeout == .seconds(2))
        #expect(try LoadTest.parse(["--duration", "1m", "--ramp", "250ms"]).duration == .seconds(60))
        #expect(throws: (any Error).self) { try Status.parse(["--timeout", "0"]) }
        #expect(throws: (any Error).self) { try Status.parse(["--watch=0"]) }
        #expect(throws: (any Error).self) { try Status.parse(["--timeout", "soon"]) }
        #expect(try Status.parse(["redis", "ws1"]).components == ["redis", "ws1"])
    }

    @Test func malformedServerFlagsAreUsageErrors() {
        for bad in ["=http://x", "ws1", "ws1=ftp://x", "ws1=http://", " =http://x:1"] {
            #expect(throws: (any Error).self, "\(bad)") { try Status.parse(["--server", bad]) }
        }
        #expect((try? Status.parse(["--server", "ws1=http://10.0.0.5:8080"])) != nil)
    }

    @Test func inventoryOptionsMayComeBeforeTheSubcommand() {
        let commands = Whisperctl.configuration.subcommands
        #expect(GlobalOptions.hoisted(["--config", "x.yml", "status", "--json"], commands: commands) == ["status", "--config", "x.yml", "--json"])
        #expect(GlobalOptions.hoisted(["--config=x.yml", "config", "show"], commands: commands) == ["config", "show", "--config=x.yml"])
        #expect(
            GlobalOptions.hoisted(["--redis", "h:1", "--server", "a=http://a", "status", "redis"], commands: commands)
                == ["status", "--redis", "h:1", "--server", "a=http://a", "redis"])
        #expect(GlobalOptions.hoisted(["status", "--config", "x.yml"], commands: commands) == ["status", "--config", "x.yml"])
        #expect(GlobalOptions.hoisted(["--version"], commands: commands) == ["--version"])
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
        #expect(Terminal(isTTY: false, environment: ["FORCE_COLOR": "1"]).useColor)
        #expect(Terminal(isTTY: false, environment: ["CLICOLOR_FORCE": "1"]).useColor)
        #expect(!Terminal(isTTY: false, environment: ["CLICOLOR_FORCE": "0"]).useColor)
        #expect(!Terminal(isTTY: true, environment: ["FORCE_COLOR": "1", "NO_COLOR": "1"]).useColor)
    }

    @Test func tablesAlignColumns() {
        let table = Table(headers: ["A", "LONGER"], rows: [["xyz", "1"], ["q", "22"]])
        #expect(table.render() == "A    LONGER\nxyz  1\nq    22")
    }
}
