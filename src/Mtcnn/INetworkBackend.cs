namespace Mtcnn;

/// <summary>
/// Runs MTCNN's three networks for a <see cref="FaceDetector"/> somewhere other than the built-in CPU kernels (for
/// example ONNX Runtime on a GPU: the <c>Mtcnn.NET.OnnxRuntime</c> package). The cascade around the networks (the
/// pyramid, resampling, thresholds, suppression, squaring, landmarks) stays in the detector, so a backend only maps
/// input tensors to the networks' raw outputs. Implementations must be thread-safe: one detector serves concurrent
/// calls.
/// </summary>
/// <remarks>
/// Layouts (all float32, channels last, as the detector resamples): inputs are normalised as <see cref="Weights"/>'
/// variant expects (original: RGB, <c>(v − 127.5) · 0.0078125</c>; reference: BGR, <c>v / 255</c>). Outputs are
/// the class logits (<c>C</c> = 2 for the original weights, 1 for the reference's), then the 4 box regressions, then
/// (O-Net) the 10 landmark values in the variant's order, exactly as the built-in nets produce them.
/// </remarks>
public interface INetworkBackend
{
    /// <summary>What runs the nets, for messages and benchmarks (e.g. <c>onnxruntime (CPU)</c>).</summary>
    string Name { get; }

    /// <summary>The weights the backend's networks were built from; the detector uses them for everything else.</summary>
    MtcnnWeights Weights { get; }

    /// <summary>
    /// P-Net over one pyramid level: <paramref name="input"/> holds <paramref name="height"/> x <paramref name="width"/>
    /// x 3 floats; <paramref name="output"/> receives, for each of the <c>outHeight x outWidth</c> window positions in
    /// row-major order, <c>C</c> logits then 4 box values (<c>C + 4</c> floats per position). The output size is the
    /// network's (valid convolutions and the variant's pooling): <see cref="FaceDetector.PNetOutputSize"/>.
    /// </summary>
    void RunPNet(ReadOnlySpan<float> input, int height, int width, Span<float> output);

    /// <summary>
    /// R-Net (<paramref name="stage"/> <see cref="CascadeStage.RNet"/>, 24x24 crops) or O-Net (<see cref="CascadeStage.ONet"/>,
    /// 48x48) over <paramref name="count"/> crops of <c>size x size x 3</c> floats each; crop <c>i</c>'s outputs go to
    /// <c>output[i * stride ..]</c>: <c>C</c> logits, 4 box values and, for O-Net, 10 landmark values.
    /// </summary>
    void RunCrops(CascadeStage stage, ReadOnlySpan<float> crops, int count, Span<float> output, int stride);
}
