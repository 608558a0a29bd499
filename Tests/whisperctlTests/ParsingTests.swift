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

    @Test func optionsMayComeBeforeTheSubcommand() {
        func rewrite(_ words: [String]) -> CommandLineRewrite.Outcome { CommandLineRewrite.rewrite(words, root: Whisperctl.self) }
        #expect(rewrite(["--config", "x.yml", "status", "--json"]) == .parse(["status", "--config", "x.yml", "--json"]))
        #expect(rewrite(["--config=x.yml", "config", "show"]) == .parse(["config", "show", "--config=x.yml"]))
        #expect(
            rewrite(["--redis", "h:1", "--server", "a=http://a", "status", "redis"])
                == .parse(["status", "--redis", "h:1", "--server", "a=http://a", "redis"]))
        #expect(rewrite(["status", "--config", "x.yml"]) == .parse(["status", "--config", "x.yml"]))
        #expect(rewrite(["--version"]) == .parse(["--version"]))
        // Any option, not only the inventory's; before a group's subcommand too.
        #expect(rewrite(["--json", "status"]) == .parse(["status", "--json"]))
        #expect(rewrite(["--timeout", "5s", "status", "redis"]) == .parse(["status", "--timeout", "5s", "redis"]))
        #expect(rewrite(["backup", "--json", "list"]) == .parse(["backup", "list", "--json"]))
        #expect(rewrite(["backup", "--config", "x.yml", "list"]) == .parse(["backup", "list", "--config", "x.yml"]))
        #expect(rewrite(["backup", "--json"]) == .parse(["backup", "--json"]), "the default subcommand's own options stay")
    }

    @Test func helpAnywhereAndUnknownCommandsWithTheClosestName() {
        func rewrite(_ words: [String]) -> CommandLineRewrite.Outcome { CommandLineRewrite.rewrite(words, root: Whisperctl.self) }
        #expect(rewrite(["rollout", "help"]) == .parse(["help", "rollout"]))
        #expect(rewrite(["backup", "help", "list"]) == .parse(["help", "backup", "list"]))
        guard case .usage(let typo) = rewrite(["stauts"]) else { Issue.record("stauts accepted"); return }
        #expect(typo.contains("unknown command 'stauts'") && typo.contains("did you mean 'status'?"), "\(typo)")
        guard case .usage(let help) = rewrite(["help", "nosuch"]) else { Issue.record("help nosuch accepted"); return }
        #expect(help.contains("unknown command 'nosuch'"), "\(help)")
        guard case .usage(let nested) = rewrite(["migrate", "stauts"]) else { Issue.record("migrate stauts accepted"); return }
        #expect(nested.contains("for 'whisperctl migrate'") && nested.contains("did you mean 'status'?"), "\(nested)")
        #expect(rewrite(["backup", "20261129T031500Z"]) == .parse(["backup", "20261129T031500Z"]), "a default subcommand takes words")
        #expect(DefaultSubcommandHelp.text(for: ["rollout", "--help"], root: Whisperctl.self)?.contains("--expect-version") == true)
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
