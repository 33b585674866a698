using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Mtcnn.Web.Api;

/// <summary>
/// The parts of the OpenAPI document that ASP.NET Core cannot infer, because the image endpoints read their query and
/// body themselves (to answer malformed values and oversized uploads with the API's own JSON errors): the query
/// parameters with their ranges and defaults, and the two accepted request bodies.
/// </summary>
internal static class OpenApiDescriptions
{
    /// <summary>Description of <c>POST /api/detect</c>.</summary>
    public const string DetectDescription =
        "Send one image (JPEG, PNG, BMP, WebP, GIF, ICO/CUR or WBMP; the format is found from the bytes) as the multipart/form-data field 'image' "
        + "(exactly one such field) or as the raw body with an image/* or application/octet-stream content type, uncompressed (no Content-Encoding). Returns the faces with box, score and five landmarks "
        + "(the schema of `mtcnn detect --format json`); with stage=pnet or stage=rnet the candidates of that stage, without landmarks. "
        + "Errors are JSON {\"error\": \"...\"}: 400 bad parameter, empty upload, malformed multipart or more than one image, "
        + "408 upload too slow, 413 upload over the byte limit, 415 not an image (content type, content encoding or content), 422 a broken image or one over the pixel limit, 503 server busy or request timeout.";

    /// <summary>Description of <c>POST /api/annotate</c>.</summary>
    public const string AnnotateDescription =
        "Same input, parameters and errors as /api/detect; returns the image with boxes, scores and landmarks drawn on it "
        + "(PNG unless format=jpeg or format=webp). The X-Face-Count header gives the number of faces drawn.";

    /// <summary>Sets the document's title and description.</summary>
    public static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Mtcnn.NET web API",
            Version = WebDemoHost.Version,
            Description = "MTCNN face detection (boxes, scores, five landmarks) over HTTP. Limits (upload bytes, pixels, "
                + "request time) are reported by GET /api/health.",
        };
        return Task.CompletedTask;
    }

    /// <summary>An operation transformer that adds the query parameters and request bodies of an image endpoint.</summary>
    public static Func<OpenApiOperation, OpenApiOperationTransformerContext, CancellationToken, Task> DescribeImageOperation(bool annotate) =>
        (operation, context, cancellationToken) =>
        {
            var d = DetectorOptions.Default;
            operation.Parameters ??= [];
            operation.Parameters.Add(Number("minFaceSize", "Smallest face to find, in pixels. Larger is faster.", d.MinFaceSize, 4, 100000));
            operation.Parameters.Add(Number("scaleFactor", "Ratio between image pyramid levels.", d.ScaleFactor, 0.1, 0.95));
            operation.Parameters.Add(Text(
                "thresholds",
                "P-Net, R-Net and O-Net face probability thresholds as three comma-separated numbers in [0, 1], e.g. 0.6,0.7,0.7. "
                + "Not together with the single-stage parameters.",
                "0.6,0.7,0.7",
                pattern: null,
                choices: null));
            operation.Parameters.Add(Number("pnetThreshold", "P-Net threshold (instead of thresholds).", d.PNetThreshold, 0, 1));
            operation.Parameters.Add(Number("rnetThreshold", "R-Net threshold (instead of thresholds).", d.RNetThreshold, 0, 1));
            operation.Parameters.Add(Number("onetThreshold", "O-Net threshold (instead of thresholds).", d.ONetThreshold, 0, 1));
            operation.Parameters.Add(Text("stage", "Last cascade stage to run: pnet and rnet return that stage's candidates (no landmarks).", "onet", null, ["pnet", "rnet", "onet"]));
            operation.Parameters.Add(Integer("maxFaces", "Keep at most this many faces, best first; 0 keeps all.", 0, 0, 100000));
            operation.Parameters.Add(Text("cropBorder", "How crops past the image edge are filled: zero (black, the original MTCNN) or clip (facenet-pytorch).", "zero", null, ["zero", "clip"]));
            operation.Parameters.Add(Text(
                "rotations",
                "Turns of the image to search for upright faces, clockwise degrees: 0, a list like 0,90,180,270 (every face any turn finds, duplicates "
                + "merged), all, or auto (all four turns; only the faces of the turn the faces agree is upright). Each extra turn is a full detection. "
                + "Faces found in a turn carry \"rotation\" (the degrees the image must be turned for the face to be upright); box and landmarks "
                + "are in the uploaded image's coordinates.",
                "0",
                pattern: null,
                choices: null));
            if (annotate)
            {
                operation.Parameters.Add(Text(DetectQuery.FormatParameter, "Encoding of the annotated image.", "png", null, [.. DetectQuery.Formats]));
            }

            var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The image: a multipart form with the file in the field 'image', or the raw bytes.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["multipart/form-data"] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string> { UploadReader.FieldName },
                            Properties = new Dictionary<string, IOpenApiSchema> { [UploadReader.FieldName] = binary },
                        },
                    },
                    ["image/*"] = new() { Schema = binary },
                    ["application/octet-stream"] = new() { Schema = binary },
                },
            };
            if (annotate && operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse response)
            {
                response.Description = "The annotated image; the X-Face-Count header gives the number of faces drawn.";
                response.Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["image/png"] = new() { Schema = binary },
                    ["image/jpeg"] = new() { Schema = binary },
                    ["image/webp"] = new() { Schema = binary },
                };
            }

            return Task.CompletedTask;
        };

    private static OpenApiParameter Number(string name, string description, double defaultValue, double min, double max) => new()
    {
        Name = name,
        In = ParameterLocation.Query,
        Description = description,
        Schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Number,
            Default = JsonValue.Create(Math.Round(defaultValue, 6)),
            Minimum = min.ToString(CultureInfo.InvariantCulture),
            Maximum = max.ToString(CultureInfo.InvariantCulture),
        },
    };

    private static OpenApiParameter Integer(string name, string description, int defaultValue, int min, int max) => new()
    {
        Name = name,
        In = ParameterLocation.Query,
        Description = description,
        Schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Integer,
            Default = JsonValue.Create(defaultValue),
            Minimum = min.ToString(CultureInfo.InvariantCulture),
            Maximum = max.ToString(CultureInfo.InvariantCulture),
        },
    };

    private static OpenApiParameter Text(string name, string description, string defaultValue, string? pattern, string[]? choices) => new()
    {
        Name = name,
        In = ParameterLocation.Query,
        Description = description,
        Schema = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Default = JsonValue.Create(defaultValue),
            Pattern = pattern,
            Enum = choices?.Select(c => (JsonNode)JsonValue.Create(c)).ToList(),
        },
    };
}
