import Foundation
import WhisperServerCore

// whisper-server: everything lives in WhisperServerCore, so tests and `whisperctl demo` can run it too.
exit(await WhisperServerApp.main(arguments: Array(CommandLine.arguments.dropFirst())))
