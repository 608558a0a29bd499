import Foundation
import Testing
import TestSupport

/// scripts/release: the tarball an operator installs from, unpacked and run where nothing of the
/// source tree is.
@Suite struct ReleaseTests {
    /// The C libraries OpsKit wraps (hiredis, libpq, libcurl, ncurses with its terminfo, OpenSSL, zlib)
    /// and the C and C++ runtime the Swift runtime linked in needs; nothing of Swift itself.
    static let allowedLibraries: Set<String> = [
        "libhiredis.so.0.14", "libpq.so.5", "libcurl.so.4", "libncursesw.so.6", "libtinfo.so.6", "libssl.so.3", "libcrypto.so.3", "libz.so.1",
        "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libutil.so.1", "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1", "libstdc++.so.6", "libgcc_s.so.1",
    ]

    @Test func theTarballInstallsAndRunsTheDemoFromAnEmptyDirectory() async throws {
        _ = try ProductBinary.release("whisperctl")
        _ = try ProductBinary.release("whisper-server")
        let out = try TemporaryDirectory()
        defer { out.remove() }
        let release = try await ExternalTool.run(Repository.path("scripts/release"), ["--no-build", "--out", out.path])
        #expect(release.status == 0, "\(ExternalTool.output(release))")
        let tarball = release.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tarball.hasPrefix(out.path) && tarball.hasSuffix(".tar.gz"))
        let checksum = try await ExternalTool.run("sha256sum", ["--check", (tarball as NSString).lastPathComponent + ".sha256"], in: out.path)
        #expect(checksum.status == 0, "\(ExternalTool.output(checksum))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }.isEmpty, "nothing half-made is left")

        let unpacked = try TemporaryDirectory()
        defer { unpacked.remove() }
        let untar = try await ExternalTool.run("tar", ["-xzf", tarball, "-C", unpacked.path])
        #expect(untar.status == 0, "\(ExternalTool.output(untar))")
        let top = try #require(try FileManager.default.contentsOfDirectory(atPath: unpacked.path).first)
        let prefix = unpacked.path + "/" + top
        for path in [
            "bin/whisperctl", "bin/whisper-server", "share/man/man1/whisperctl.1", "share/man/man1/whisperctl.status.1",
            "share/bash-completion/completions/whisperctl", "share/zsh/site-functions/_whisperctl",
            "share/fish/vendor_completions.d/whisperctl.fish", "share/whisper/migrations", "share/whisperctl/runbooks/rolling-update.yml",
            "docker/Dockerfile", "docker/docker-compose.prod.yml", "VERSION",
        ] {
            #expect(FileManager.default.fileExists(atPath: prefix + "/" + path), "the tarball has \(path)")
        }

        for binary in ["whisperctl", "whisper-server"] {
            let path = prefix + "/bin/" + binary
            let dynamic = try await ExternalTool.run("readelf", ["-d", path])
            #expect(dynamic.status == 0)
            let needed = Set(dynamic.stdout.split(separator: "\n").compactMap { line -> String? in
                guard line.contains("(NEEDED)"), let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
                return String(line[line.index(after: open)..<close])
            })
            #expect(needed.contains("libc.so.6"))
            #expect(needed.subtracting(Self.allowedLibraries).isEmpty, "\(binary) needs \(needed.subtracting(Self.allowedLibraries).sorted())")
            #expect(!needed.contains { $0.contains("swift") || $0.contains("Foundation") || $0.contains("dispatch") })
            let ldd = try await ExternalTool.run("ldd", [path])
            #expect(ldd.status == 0 && !ldd.stdout.contains("not found"), "\(ExternalTool.output(ldd))")
        }

        // From a directory with nothing in it, a PATH with nothing of ours on it.
        let clean = try TemporaryDirectory()
        defer { clean.remove() }
        let environment = ["PATH": "/usr/bin:/bin", "HOME": clean.path]
        let demo = try await ExternalTool.run(prefix + "/bin/whisperctl", ["demo", "--no-tui", "--duration", "3s"], in: clean.path, environment: environment)
        #expect(demo.status == 0, "\(ExternalTool.output(demo))")
        let said = demo.stdout + demo.stderr
        #expect(said.contains("demo: ran") && said.contains(" 0 errors"), "\(said)")
        let version = try await ExternalTool.run(prefix + "/bin/whisperctl", ["version", "--json"], in: clean.path, environment: environment)
        #expect(version.stdout.contains("\"commit\"") && version.stdout.contains("\"build_date\""))
        let runbooks = try await ExternalTool.run(prefix + "/bin/whisperctl", ["runbook", "list"], in: clean.path, environment: environment)
        #expect(runbooks.stdout.contains(prefix + "/share/whisperctl/runbooks/rolling-update.yml"), "\(ExternalTool.output(runbooks))")
        let server = try await ExternalTool.run(prefix + "/bin/whisper-server", ["--version"], in: clean.path, environment: environment)
        #expect(server.status == 0 && server.stdout.hasPrefix("whisper-server 0."), "\(ExternalTool.output(server))")
    }

    /// --version and `version --json` name the commit the binary was built from, as git has it.
    @Test func theVersionNamesTheCommitItWasBuiltFrom() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let head = try await ExternalTool.run("git", ["rev-parse", "--short=12", "HEAD"])
        try #require(head.status == 0, "the tests run from a git checkout")
        let commit = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let flag = try await WhisperctlBinary.run(["--version"], in: directory)
        #expect(flag.status == 0)
        #expect(flag.stdout.hasPrefix("whisperctl 0.") && flag.stdout.contains("(commit \(commit)") && flag.stdout.contains(", built 20"), "\(flag.stdout)")
        let json = try await WhisperctlBinary.run(["version", "--json"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["commit"] as? String)?.hasPrefix(commit) == true)
        #expect((object["version"] as? String)?.isEmpty == false)
        #expect(ISO8601DateFormatter().date(from: object["build_date"] as? String ?? "") != nil, "\(json.stdout)")
    }
}
