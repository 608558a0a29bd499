import Foundation
import OpsKit

/// `whisper-server --migrate`: applies pending migrations from MIGRATIONS_DIR to DATABASE_URL.
enum MigrateCommand {
    /// - Returns: the exit code: 0 applied (or nothing to do), 1 failed, 78 not configured.
    static func run(_ configuration: ServerConfiguration) async -> Int32 {
        guard let url = configuration.databaseURL else {
            FileHandle.standardError.write(Data("whisper-server: --migrate needs DATABASE_URL\n".utf8))
            return 78
        }
        do {
            let migrations = try MigrationDirectory.load(configuration.migrationsDirectory)
            let connection = try await PostgresConnection.connect(url: url, timeout: .seconds(10))
            defer { connection.close() }
            let applied = try await MigrationRunner(connection: connection, migrations: migrations).up()
            for migration in applied { print("applied \(String(format: "%03d", migration.version))_\(migration.name)") }
            if applied.isEmpty { print("nothing to apply: the schema is up to date") }
            return 0
        } catch {
            FileHandle.standardError.write(Data("whisper-server: migration failed: \(error)\n".utf8))
            return 1
        }
    }
}
