import Foundation
import OpsKit
import Testing

@Suite struct RedactorTests {
    @Test func masksPasswordsInURLsAndConnectionStrings() {
        #expect(Redactor.redactURL("postgres://whisper:hunter2@db:5432/whisper") == "postgres://whisper:***@db:5432/whisper")
        #expect(Redactor.redactURL("redis://:pw@10.0.0.1:6379/0") == "redis://:***@10.0.0.1:6379/0")
        #expect(Redactor.redactURL("http://user@host/x") == "http://user@host/x")
        #expect(Redactor.redactURL("failed at http://a:b@h/x and nats://u:p@n:4222") == "failed at http://a:***@h/x and nats://u:***@n:4222")
        #expect(Redactor.redactURL("host=db password=hunter2 user=u") == "host=db password=*** user=u")
        #expect(Redactor.redactURL("host=db password='hun ter2' user=u") == "host=db password=*** user=u")
        #expect(Redactor.redactURL("postgres://u:p%40ss@h/d") == "postgres://u:***@h/d")
    }
}

@Suite struct DurationParsingTests {
    @Test func acceptsSecondsMillisecondsAndBareNumbers() {
        #expect(Duration(parsing: "2") == .seconds(2))
        #expect(Duration(parsing: "2s") == .seconds(2))
        #expect(Duration(parsing: "1.5s") == .milliseconds(1500))
        #expect(Duration(parsing: "500ms") == .milliseconds(500))
        #expect(Duration(parsing: "1m") == .seconds(60))
        #expect(Duration(parsing: "abc") == nil)
        #expect(Duration(parsing: "-1s") == nil)
        #expect(Duration.seconds(2).humanReadable == "2 s")
        #expect(Duration.milliseconds(300).humanReadable == "300 ms")
        #expect(Duration.milliseconds(1500).humanReadable == "1.5 s")
    }
}

@Suite struct JSONTests {
    @Test func parsesAndWritesDocumentsKeepingKeyOrder() throws {
        let text = #"{"z": 1, "a": [true, false, null, -2.5e3, "é\n\u00e9\ud83d\ude00"], "m": {"k": 9007199254740993}}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value["z"] == .int(1))
        #expect(value["a"] == .array([.bool(true), .bool(false), .null, .double(-2500), .string("é\né😀")]))
        #expect(value["m"]?["k"] == .int(9_007_199_254_740_993))
        #expect(value.serialized() == #"{"z":1,"a":[true,false,null,-2500.0,"é\né😀"],"m":{"k":9007199254740993}}"#)
    }

    @Test func rejectsMalformedDocumentsWithTheOffset() {
        for bad in ["{", "[1,]", #"{"a" 1}"#, "tru", "1 2", #""\x""#, "{\"a\":\"\u{01}\"}"] {
            #expect(throws: (any Error).self, "\(bad)") { try JSONValue.parse(Array(bad.utf8)) }
        }
        do {
            _ = try JSONValue.parse(Array("[1, }".utf8))
        } catch {
            #expect("\(error)".contains("byte 4"))
        }
    }
}

@Suite struct AddressTests {
    @Test func parsesRedisAddressesInEveryForm() throws {
        #expect(try RedisAddress(parsing: "redis:6379").location == .tcp(host: "redis", port: 6379))
        #expect(try RedisAddress(parsing: "10.0.0.1").location == .tcp(host: "10.0.0.1", port: 6379))
        #expect(try RedisAddress(parsing: "[::1]:7000").location == .tcp(host: "::1", port: 7000))
        #expect(try RedisAddress(parsing: "/run/redis.sock").location == .unixSocket(path: "/run/redis.sock"))
        let url = try RedisAddress(parsing: "redis://:p%40ss@cache:6380/2")
        #expect(url.location == .tcp(host: "cache", port: 6380))
        #expect(url.password == "p@ss")
        #expect(url.database == 2)
        #expect(url.description == "cache:6380")
        for bad in ["", "host:0", "host:99999", "host:abc", "redis://h/x", "a b:1"] {
            #expect(throws: OpsError.self, "\(bad)") { try RedisAddress(parsing: bad) }
        }
    }

    @Test func parsesRedisInfo() {
        let info = parseRedisInfo("# Server\r\nredis_version:7.0.15\r\nrole:master\r\n\r\n# Memory\r\nused_memory:1024\r\n")
        #expect(info["redis_version"] == "7.0.15")
        #expect(info["role"] == "master")
        #expect(info["used_memory"] == "1024")
    }
}

@Suite struct HAProxyStatsTests {
    static let csv = """
        # pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,last_chk,
        whisper,FRONTEND,,,3,5,2000,10,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,3,,,,0,,
        ws_servers,ws1,0,0,2,2,,4,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,10,0,,1,3,1,,4,,2,0,,2,L7OK,200,1,0,HTTP status check returned code <3C>200<3E>,
        ws_servers,ws2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,5,5,,1,3,2,,0,,2,0,,0,L7STS,503,1,0,HTTP status check returned code <3C>503<3E>,
        ws_servers,ws3,0,0,1,1,,1,0,0,,0,,0,0,0,0,DRAIN,0,1,0,0,0,5,0,,1,3,3,,0,,2,0,,0,L7OK,200,1,0,,
        ws_servers,BACKEND,0,0,3,3,200,5,0,0,0,0,,0,0,0,0,UP,2,2,0,,0,10,0,,1,3,0,,5,,1,0,,2,,,,0,,
        """

    @Test func readsServersOfTheBackendByColumnName() throws {
        let stats = try HAProxyStats(csv: Self.csv)
        let servers = stats.servers(ofBackend: "ws_servers")
        #expect(servers.map(\.service) == ["ws1", "ws2", "ws3"])
        #expect(servers.map(\.status) == ["UP", "DOWN", "DRAIN"])
        #expect(servers[0].currentSessions == 2)
        #expect(servers[1].checkStatus == "L7STS")
        #expect(stats.backendNames == ["ws_servers"])
    }

    @Test func judgesTheBackend() throws {
        let stats = try HAProxyStats(csv: Self.csv)
        let report = HAProxyProbe(statsURL: "http://h/stats", backend: "ws_servers").evaluate(stats, latency: nil)
        #expect(report.status == .warning)
        #expect(report.detail == "1/3 serving, 3 sessions, ws2 DOWN (L7STS/503), ws3 DRAIN (L7OK/200)")
        let missing = HAProxyProbe(statsURL: "http://h/stats", backend: "nope").evaluate(stats, latency: nil)
        #expect(missing.status == .critical)
        #expect(missing.detail.contains("backend 'nope' not found (backends: ws_servers)"))
    }

    @Test func refusesTextThatIsNotStatsCSV() {
        #expect(throws: OpsError.self) { try HAProxyStats(csv: "<html>login</html>") }
        #expect(throws: OpsError.self) { try HAProxyStats(csv: "# a,b\n1,2") }
    }

    @Test func mapsEveryHAProxyStatusString() {
        #expect(HAProxyServerState(haproxyStatus: "UP") == .up)
        #expect(HAProxyServerState(haproxyStatus: "UP 1/3") == .goingDown)
        #expect(HAProxyServerState(haproxyStatus: "DOWN") == .down)
        #expect(HAProxyServerState(haproxyStatus: "DOWN 1/2") == .goingUp)
        #expect(HAProxyServerState(haproxyStatus: "NOLB") == .nolb)
        #expect(HAProxyServerState(haproxyStatus: "DRAIN") == .drain)
        #expect(HAProxyServerState(haproxyStatus: "MAINT (via ws_servers/ws1)") == .maint)
        #expect(HAProxyServerState(haproxyStatus: "no check") == .noCheck)
    }
}

@Suite struct ProbeVerdictTests {
    @Test func redisMemoryAgainstMaxmemory() {
        let probe = RedisProbe(address: RedisAddress(location: .tcp(host: "r", port: 6379)))
        let fine = probe.evaluate(info: ["role": "master", "used_memory": "100", "maxmemory": "1000"], queueDepth: 3, latency: .zero)
        #expect(fine.status == .ok)
        #expect(probe.evaluate(info: ["used_memory": "850", "maxmemory": "1000"], queueDepth: 0, latency: .zero).status == .warning)
        #expect(probe.evaluate(info: ["used_memory": "990", "maxmemory": "1000"], queueDepth: 0, latency: .zero).status == .critical)
        #expect(probe.evaluate(info: ["used_memory": "10"], queueDepth: 20_000, latency: .zero).status == .warning)
        #expect(probe.evaluate(info: ["role": "slave", "master_link_status": "down"], queueDepth: 0, latency: .zero).status == .warning)
    }

    @Test func natsSlowConsumersWarn() {
        let probe = NATSProbe(monitorURL: "http://n:8222")
        #expect(probe.evaluate(varz: .object([("connections", .int(3)), ("slow_consumers", .int(0))]), latency: nil).status == .ok)
        let slow = probe.evaluate(varz: .object([("connections", .int(3)), ("slow_consumers", .int(2))]), latency: nil)
        #expect(slow.status == .warning)
        #expect(slow.detail.contains("2 slow consumers"))
    }

    @Test func worstStatusWins() {
        #expect(HealthStatus.worst([.ok, .warning]) == .warning)
        #expect(HealthStatus.worst([.warning, .unknown]) == .unknown)
        #expect(HealthStatus.worst([.unknown, .critical, .ok]) == .critical)
        #expect(HealthStatus.worst([]) == .ok)
        #expect(HealthStatus.allCases.map(\.exitCode) == [0, 1, 2, 3])
    }
}
