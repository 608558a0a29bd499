import Foundation

/// Files written so that a crash leaves either the old content or the new, never a mix: a
/// temporary name in the same directory, written, fsynced, renamed, and the directory fsynced.
public enum AtomicFile {
    /// - Throws: `OpsError(.io)` naming the file (a full disk included); nothing is left behind.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let number = errno
            let reason = String(cString: strerror(number))
            var isDirectory: ObjCBool = false
            let parent = directory.isEmpty ? "." : directory
            if number == ENOENT || number == ENOTDIR, !FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) || !isDirectory.boolValue {
                throw OpsError(.io, "cannot write: the directory \(parent) does not exist (create it first)", endpoint: path)
            }
            throw OpsError(.io, "cannot write: \(reason)", endpoint: path)
        }
        fchmod(fd, mode)
        var failure: String?
        var offset = 0
        while offset < bytes.count, failure == nil {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { failure = String(cString: strerror(errno)) } else { offset += written }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        guard failure == nil else {
            unlink(temporary)
            throw OpsError(.io, "cannot write: \(failure!)", endpoint: path)
        }
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Makes a rename or a new entry in `directory` durable.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
