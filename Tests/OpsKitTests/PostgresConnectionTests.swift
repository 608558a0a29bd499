import Foundation
import OpsKit
import TestSupport
import Testing

@Suite struct PostgresConnectionTests {
    @Test func runsParameterisedQueriesWithTypedRows() async throws {
        try await withService({ try await PostgresServer.start() }) { pg in
            let connection = try await PostgresConnection.connect(url: pg.url)
            defer { connection.close() }
            try await connection.query("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, score float8, ok bool, at timestamptz DEFAULT now())")
            let insert = try await connection.query(
                "INSERT INTO notes (body, score, ok) VALUES ($1, $2, $3), ($4, NULL, $5)",
                ["it's \"quoted\"; DROP TABLE notes; --", 2.5, true, "second", false])
            #expect(insert.affectedRows == 2)
            let result = try await connection.query("SELECT id, body, score, ok, at FROM notes WHERE id > $1 ORDER BY id", [0])
            #expect(result.rows.count == 2)
            #expect(result.columns.map(\.name) == ["id", "body", "score", "ok", "at"])
            #expect(result.rows[0]["id"].int == 1)
            #expect(result.rows[0]["body"].string == "it's \"quoted\"; DROP TABLE notes; --")
            #expect(result.rows[0]["score"].double == 2.5)
            #expect(result.rows[0]["ok"].bool == true)
            #expect(result.rows[1]["score"].isNull)
            let at = try #require(result.rows[0]["at"].date)
            #expect(abs(at.timeIntervalSinceNow) < 300)
            #expect(connection.serverVersionNumber >= 120000)
        }
    }

    @Test func serverErrorsCarrySQLStateMessageAndPosition() async throws {
        try await withService({ try await PostgresServer.start() }) { pg in
            let connection = try await PostgresConnection.connect(url: pg.url)
            defer { connection.close() }
            do {
                try await connection.query("SELECT * FROM no_such_table")
                Issue.record("the table does not exist")
            } catch let error as PostgresError {
                #expect(error.sqlState == "42P01")
                #expect(error.message == "relation \"no_such_table\" does not exist")
                #expect(error.position == 15)
                #expect(error.endpoint == "127.0.0.1:\(pg.port)")
            }
            // The connection stays usable after an error.
            #expect(try await connection.query("SELECT 1 AS one").rows[0]["one"].int == 1)
        }
    }

    @Test func aWrongPasswordFailsWithoutPrintingIt() async throws {
        try await withService({ try await PostgresServer.start() }) { pg in
            let url = "postgres://whisper:Not-The-Password-9@127.0.0.1:\(pg.port)/whisper?sslmode=disable"
            do {
                _ = try await PostgresConnection.connect(url: url)
                Issue.record("a wrong password must fail")
            } catch let error as OpsError {
                #expect(error.code == .authentication)
                #expect(!error.description.contains("Not-The-Password-9"))
                #expect(error.description.contains("127.0.0.1:\(pg.port)"))
            }
        }
    }

    @Test func aSlowQueryIsCancelledAtItsTimeout() async throws {
        try await withService({ try await PostgresServer.start() }) { pg in
            let connection = try await PostgresConnection.connect(url: pg.url)
            defer { connection.close() }
            do {
                try await connection.query("SELECT pg_sleep(30)", timeout: .milliseconds(300))
                Issue.record("pg_sleep(30) must time out")
            } catch let error as OpsError {
                #expect(error.code == .timedOut)
            }
            // Cancelled on the server, so the connection answers again at once.
            #expect(try await connection.query("SELECT 2 AS two").rows[0]["two"].int == 2)
        }
    }

    @Test func scriptsRunSeveralStatements() async throws {
        try await withService({ try await PostgresServer.start() }) { pg in
            let connection = try await PostgresConnection.connect(url: pg.url)
            defer { connection.close() }
            let results = try await connection.execute(script: "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2); SELECT sum(n) AS s FROM t;")
            #expect(results.count == 3)
            #expect(results[2].rows[0]["s"].int == 3)
        }
    }

    @Test func refusedAndMalformedURLsAreClearErrors() async throws {
        let port = try FreePort.next()
        do {
            _ = try await PostgresConnection.connect(url: "postgres://u:pw-hidden@127.0.0.1:\(port)/db")
            Issue.record("nothing listens there")
        } catch let error as OpsError {
            #expect(error.description == "connection refused at 127.0.0.1:\(port)")
        }
        #expect(throws: OpsError.self) { try PostgresConnectionInfo(parsing: "postgres://u@host:notaport/db") }
        #expect(throws: OpsError.self) { try PostgresConnectionInfo(parsing: "host=x port") }
    }

    @Test func aServerThatNeverAnswersTimesOutOnConnect() async throws {
        try await withService({ try BlackHoleServer() }) { hole in
            do {
                _ = try await PostgresConnection.connect(url: "postgres://u@\(hole.address)/db?sslmode=disable", timeout: .milliseconds(300))
                Issue.record("must time out")
            } catch let error as OpsError {
                #expect(error.code == .timedOut)
                #expect(error.description == "timed out after 300 ms at \(hole.address)")
            }
        }
    }
}
