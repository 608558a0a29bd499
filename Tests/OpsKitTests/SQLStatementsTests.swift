import OpsKit
import Testing

/// Splitting a migration into statements as PostgreSQL's lexer would.
@Suite struct SQLStatementsTests {
    @Test func splitsAtTopLevelSemicolonsOnly() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (t text DEFAULT 'x;y', "odd;name" int);
            /* block; /* nested; */ still; */
            INSERT INTO a VALUES (E'it\\'s; fine', 1);
            CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
            SELECT $$;$$, $1;

            """
        let statements = SQLStatements.split(script)
        #expect(statements.map(\.line) == [2, 4, 5, 6])
        #expect(statements[0].text == #"CREATE TABLE a (t text DEFAULT 'x;y', "odd;name" int)"#)
        #expect(statements[1].text == #"INSERT INTO a VALUES (E'it\'s; fine', 1)"#)
        #expect(statements[2].text.hasSuffix("LANGUAGE sql"))
        #expect(statements[3].text == "SELECT $$;$$, $1")
    }

    @Test func quotesDoublingAndTrailingTextWithoutASemicolon() {
        let statements = SQLStatements.split("SELECT 'a''b;c'; SELECT 2")
        #expect(statements.map(\.text) == ["SELECT 'a''b;c'", "SELECT 2"])
        #expect(statements[1].offset == 18)
        #expect(SQLStatements.split("-- only a comment\n;\n  ").isEmpty)
        #expect(SQLStatements.split("SELECT 'unterminated; still one").count == 1)
    }

    @Test func theNoTransactionMarkerIsAHeaderComment() {
        #expect(!Migration.isTransactional("-- whisper:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);"))
        #expect(!Migration.isTransactional("\n-- builds an index\n-- whisper:no-transaction\nSELECT 1;"))
        #expect(Migration.isTransactional("SELECT 1;\n-- whisper:no-transaction\n"), "only in the header")
        #expect(Migration.isTransactional("CREATE TABLE t (id int);"))
    }
}
