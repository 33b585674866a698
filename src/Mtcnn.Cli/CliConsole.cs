using System.Text;

namespace Mtcnn.Cli;

/// <summary>
/// The streams a command talks to: data on <see cref="Out"/>, messages and progress on <see cref="Error"/>. The process
/// uses the real console; tests pass string readers and writers to run commands in-process.
/// </summary>
internal sealed class CliConsole
{
    /// <summary>Creates a console over the given streams.</summary>
    /// <param name="input">Standard input (the path list of <c>detect -</c>).</param>
    /// <param name="output">Standard output: results only.</param>
    /// <param name="error">Standard error: errors, warnings, progress and summaries.</param>
    /// <param name="isErrorTerminal">True when <paramref name="error"/> is an interactive terminal (progress then rewrites one line).</param>
    public CliConsole(TextReader input, TextWriter output, TextWriter error, bool isErrorTerminal = false)
    {
        In = input;
        Out = output;
        Error = error;
        IsErrorTerminal = isErrorTerminal;
    }

    /// <summary>Standard input.</summary>
    public TextReader In { get; }

    /// <summary>Standard output (results).</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error (messages and progress).</summary>
    public TextWriter Error { get; }

    /// <summary>True when <see cref="Error"/> is an interactive terminal.</summary>
    public bool IsErrorTerminal { get; }

    /// <summary>Writes one message line to <see cref="Error"/> and flushes it.</summary>
    public void WriteErrorLine(string line)
    {
        lock (Error)
        {
            Error.WriteLine(line);
            Error.Flush();
        }
    }

    /// <summary>
    /// The process console: UTF-8 without a byte-order mark, stdout buffered (commands flush after each record) so that
    /// large batches do not pay a system call per line.
    /// </summary>
    public static CliConsole CreateSystem()
    {
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        var stdout = new StreamWriter(Console.OpenStandardOutput(), utf8, 1 << 16) { AutoFlush = false, NewLine = "\n" };
        var stderr = new StreamWriter(Console.OpenStandardError(), utf8, 1 << 12) { AutoFlush = true, NewLine = "\n" };
        var stdin = new StreamReader(Console.OpenStandardInput(), utf8);
        return new CliConsole(stdin, stdout, stderr, !Console.IsErrorRedirected);
    }
}
