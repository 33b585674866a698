namespace Mtcnn.Training.Data;

/// <summary>
/// The type of a training sample; the value is the label the MTCNN papers and the reference project store.
/// </summary>
#pragma warning disable CA1028 // The sbyte values are the labels written to sample files.
public enum SampleKind : sbyte
#pragma warning restore CA1028
{
    /// <summary>IoU &lt; 0.3 with every face: trains the face classifier (label 0).</summary>
    Negative = 0,

    /// <summary>IoU &gt;= 0.65 with a face: trains the classifier (label 1) and the box regression.</summary>
    Positive = 1,

    /// <summary>IoU in [0.4, 0.65) with a face: trains the box regression only (label -1).</summary>
    Part = -1,

    /// <summary>A square around an annotated five-point face (IoU &gt; 0.65): trains the landmarks (and the box) (label -2).</summary>
    Landmark = -2,
}
