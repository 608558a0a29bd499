import Foundation
import Testing
import TestSupport

/// docs/man/ is generated from the argument parser (scripts/man); these keep the committed pages
/// current, as CompletionScriptTests keeps completions/, and valid to the program that reads them.
@Suite struct ManualPagesTests {
    static let directory = Repository.path("docs/man")

    static func committedPages() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".1") }.sorted()
    }

    @Test func committedPagesMatchTheCommandTree() async throws {
        let generator = ProductBinary.path("generate-manual")
        guard FileManager.default.isExecutableFile(atPath: generator) else {
            throw SupportError("\(generator) is missing: scripts/test builds it (swift build --product generate-manual)")
        }
        let main = try String(contentsOfFile: Self.directory + "/whisperctl.1", encoding: .utf8)
        let dated = try #require(main.split(separator: "\n").first { $0.hasPrefix(".Dd ") }).dropFirst(4)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMMM d, yyyy"
        let date = try #require(formatter.date(from: String(dated)), "whisperctl.1's .Dd '\(dated)'")
        formatter.dateFormat = "yyyy-MM-dd"

        let output = try TemporaryDirectory()
        defer { output.remove() }
        let run = try await ExternalTool.run(
            generator, [WhisperctlBinary.path, "--multi-page", "--date", formatter.string(from: date), "--output-directory", output.path])
        #expect(run.status == 0, "\(ExternalTool.output(run))")
        let generated = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasSuffix(".1") }.sorted()
        let committed = try Self.committedPages()
        #expect(generated == committed, "the pages differ from the commands: regenerate with scripts/man")
        #expect(generated.contains("whisperctl.status.1") && generated.contains("whisperctl.runbook.run.1"))
        for page in generated where committed.contains(page) {
            let fresh = try String(contentsOfFile: output.path + "/" + page, encoding: .utf8)
            let kept = try String(contentsOfFile: Self.directory + "/" + page, encoding: .utf8)
            #expect(fresh == kept, "docs/man/\(page) is out of date: regenerate with scripts/man")
        }
    }

    @Test func everyPageLintsCleanWithMandoc() async throws {
        let pages = try Self.committedPages()
        #expect(pages.count > 40)
        let lint = try await ExternalTool.run("mandoc", ["-T", "lint", "-W", "error"] + pages, in: Self.directory)
        #expect(lint.status == 0, "\(ExternalTool.output(lint))")
        // And they render: the status page names its options.
        let rendered = try await ExternalTool.run("mandoc", ["-T", "utf8", "whisperctl.status.1"], in: Self.directory)
        #expect(rendered.status == 0)
        #expect(rendered.stdout.contains("--watch") && rendered.stdout.contains("Probe every component"))
    }
}
