namespace Mtcnn.Web.Api;

// These records describe the responses in the OpenAPI document (their XML docs become its descriptions); the detection
// JSON itself is written by DetectionJson with fixed rounding.

/// <summary>One face, or one candidate of the P-Net or R-Net view.</summary>
/// <param name="Box">[x1, y1, x2, y2] in pixels (4 decimals); may reach past the image.</param>
/// <param name="Score">Face probability of the last stage that ran, in [0, 1] (6 decimals).</param>
/// <param name="Landmarks">Five [x, y] points: left eye, right eye, nose, left and right mouth corner; absent for the P-Net and R-Net views.</param>
internal sealed record FaceResponse(double[] Box, double Score, double[][]? Landmarks);

/// <summary>The body of a successful <c>POST /api/detect</c>.</summary>
/// <param name="Image">The uploaded file's name, or "upload" when the client gave none.</param>
/// <param name="Width">Width of the decoded, upright image in pixels.</param>
/// <param name="Height">Height of the decoded, upright image in pixels.</param>
/// <param name="Faces">Faces, best first.</param>
/// <param name="CandidateLimitReached">
/// Present (true) only when more candidates than the server's candidate limit (maxCandidates in /api/health; default 50,000) survived a stage and only the
/// best-scoring went on, so faces may be missing (very low thresholds with a small minFaceSize).
/// </param>
internal sealed record DetectionResponse(string Image, int Width, int Height, IReadOnlyList<FaceResponse> Faces, bool? CandidateLimitReached = null);

/// <summary>The body of every error response.</summary>
/// <param name="Error">What went wrong, in one line.</param>
internal sealed record ErrorResponse(string Error);

/// <summary>The limits a server enforces, as reported by <c>GET /api/health</c>.</summary>
/// <param name="MaxUploadBytes">Largest upload in bytes (413 above).</param>
/// <param name="MaxPixels">Largest image in pixels (422 above).</param>
/// <param name="RequestTimeoutSeconds">Longest request in seconds (503 after).</param>
/// <param name="MaxQueuedRequests">Requests that may wait for a worker (503 beyond).</param>
/// <param name="MaxCandidates">Most candidates a detection passes between stages ("candidateLimitReached" when capped).</param>
internal sealed record LimitsResponse(long MaxUploadBytes, long MaxPixels, double RequestTimeoutSeconds, int MaxQueuedRequests, int MaxCandidates);

/// <summary>The body of <c>GET /api/health</c>.</summary>
/// <param name="Status">Always "ok" when the server answers.</param>
/// <param name="Version">The Mtcnn.NET version.</param>
/// <param name="Backend">Where images are processed: "in-process", or the cluster the server sends them to.</param>
/// <param name="Workers">Detection worker threads (with a cluster: requests sent to it at once).</param>
/// <param name="Busy">Workers processing an image right now (with a cluster: requests out to it).</param>
/// <param name="Admitted">Image requests admitted and not finished (uploading, queued or running).</param>
/// <param name="Limits">The configured limits.</param>
internal sealed record HealthResponse(string Status, string Version, string Backend, int Workers, int Busy, int Admitted, LimitsResponse Limits);
