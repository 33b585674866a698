namespace Mtcnn.Imaging;

/// <summary>Row access to native (SkiaSharp-owned) pixel memory, which can exceed the 2 GB a single span can cover.</summary>
internal static class NativeRows
{
    /// <summary>The first <paramref name="length"/> bytes of row <paramref name="y"/> of a buffer with <paramref name="rowBytes"/> bytes per row.</summary>
    public static unsafe Span<byte> Row(IntPtr basePtr, int rowBytes, int y, int length) =>
        new((byte*)basePtr + ((long)y * rowBytes), length);
}
