using System.Buffers.Binary;
using System.IO.Compression;

namespace Mtcnn.TestSupport;

/// <summary>PNG files built by hand, chunk by chunk, for sizes and headers an encoder will not write (a 0x0 or a 1,000,001-pixel-wide image).</summary>
internal static class PngBytes
{
    /// <summary>A PNG written chunk by chunk. <paramref name="rows"/> are the unfiltered scanlines (each gets filter byte 0).</summary>
    public static byte[] Write(int width, int height, int bitDepth, int colorType, byte[][] rows, byte[]? palette = null, byte[]? transparency = null)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colorType;
        WriteChunk(file, "IHDR", ihdr);
        if (palette is not null)
        {
            WriteChunk(file, "PLTE", palette);
        }

        if (transparency is not null)
        {
            WriteChunk(file, "tRNS", transparency);
        }

        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            foreach (byte[] row in rows)
            {
                z.WriteByte(0);
                z.Write(row);
            }
        }

        WriteChunk(file, "IDAT", raw.ToArray());
        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    private static void WriteChunk(Stream file, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        file.Write(len);
        byte[] typeAndData = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        file.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typeAndData));
        file.Write(len);
    }

    /// <summary>CRC-32 (ISO 3309, polynomial 0xEDB88320 reflected) as PNG chunks use it.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
