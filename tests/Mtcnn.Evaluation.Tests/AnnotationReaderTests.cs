using Mtcnn.Evaluation.Annotations;

namespace Mtcnn.Evaluation.Tests;

/// <summary>The CNN_FacePoint and WIDER FACE annotation readers: good records, bad records reported by line, the rest kept.</summary>
public sealed class AnnotationReaderTests
{
    [Fact]
    public void FacePoint_lines_are_read_with_the_left_right_top_bottom_box_order()
    {
        const string text = "lfw_5590\\A_0001.jpg 27.2 51.84 29.76 54.4 34.32 34.8 47.28 36.24 40 42 35 48 46 49\r\n\r\n";
        var result = FacePointList.Parse(text, "list.txt");
        Assert.Empty(result.Issues);
        var e = Assert.Single(result.Entries);
        Assert.Equal("lfw_5590/A_0001.jpg", e.ImagePath);
        Assert.Equal(new BoundingBox(27.2f, 29.76f, 51.84f, 54.4f), e.Box);
        Assert.Equal(new Point2F(34.32f, 34.8f), e.Landmarks.LeftEye);
        Assert.Equal(new Point2F(46f, 49f), e.Landmarks.MouthRight);
        Assert.Equal(1, e.LineNumber);

        var again = FacePointList.Parse(FacePointList.FormatLine(e), "x");
        Assert.Equal(e with { LineNumber = 1 }, Assert.Single(again.Entries));
    }

    [Fact]
    public void Bad_FacePoint_lines_are_reported_by_line_and_the_rest_is_kept()
    {
        var text = string.Join('\n',
            "a.jpg 1 20 2 22 5 5 15 5 10 10 6 15 14 15",
            "b.jpg 1 20 2 22 5 5 15 5 10 10 6 15 14",          // 14 fields
            "c.jpg 1 20 2 22 5 five 15 5 10 10 6 15 14 15",   // not a number
            "d.jpg 20 1 2 22 5 5 15 5 10 10 6 15 14 15",      // right < left
            "e.jpg 1 20 2 22 5 5 15 5 10 10 6 15 14 15");
        var result = FacePointList.Parse(text, "list.txt");
        Assert.Equal(["a.jpg", "e.jpg"], result.Entries.Select(e => e.ImagePath));
        Assert.Equal([2, 3, 4], result.Issues.Select(i => i.LineNumber));
        Assert.Contains("found 14", result.Issues[0].Problem, StringComparison.Ordinal);
        Assert.Contains("'five'", result.Issues[1].Problem, StringComparison.Ordinal);
        Assert.Contains("left right top bottom", result.Issues[2].Problem, StringComparison.Ordinal);
        Assert.StartsWith("list.txt:2: ", result.Issues[0].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Wider_records_keep_attributes_and_zero_face_images()
    {
        var text = string.Join('\n',
            "0--Parade/a.jpg", "2", "10 20 30 40 0 0 0 0 0 0", "50 60 7 8 2 1 1 1 2 1",
            "0--Parade/b.jpg", "0", "0 0 0 0 0 0 0 0 0 0",
            "1--Handshaking/c.jpg", "1", "1 2 3 4 0 0 0 0 0 0", "");
        var result = WiderAnnotationFile.Parse(text, "gt.txt");
        Assert.Empty(result.Issues);
        Assert.Equal(["0--Parade/a.jpg", "0--Parade/b.jpg", "1--Handshaking/c.jpg"], result.Images.Select(i => i.ImagePath));
        Assert.Equal([1, 5, 8], result.Images.Select(i => i.LineNumber));
        var a = result.Images[0];
        Assert.Equal(2, a.Faces.Count);
        Assert.False(a.Faces[0].Invalid);
        Assert.Equal(new WiderFace(new Wider.WiderBox(50, 60, 7, 8), 2, 1, 1, true, 2, 1), a.Faces[1]);
        Assert.Empty(result.Images[1].Faces);
    }

    [Fact]
    public void A_bad_Wider_record_is_skipped_and_reading_resumes_at_the_next_image()
    {
        var text = string.Join('\n',
            "x/a.jpg", "two", "1 2 3 4 0 0 0 0 0 0",          // bad count
            "x/b.jpg", "2", "1 2 3 4 0 0 0 0 0 0",             // one face line missing
            "x/c.jpg", "1", "1 2 oops 4 0 0 0 0 0 0",          // bad number
            "x/d.jpg", "1", "1 2 3 4 0 0 0 0 0 0",
            "garbage line",
            "x/e.jpg", "1", "5 6 7 8 0 0 0 0 0 0");
        var result = WiderAnnotationFile.Parse(text, "gt.txt");
        Assert.Equal(["x/d.jpg", "x/e.jpg"], result.Images.Select(i => i.ImagePath));
        Assert.Equal(4, result.Issues.Count);
        Assert.Equal(2, result.Issues[0].LineNumber);
        Assert.Contains("face count of x/a.jpg", result.Issues[0].Problem, StringComparison.Ordinal);
        Assert.Contains("expected 2 face lines, found 1", result.Issues[1].Problem, StringComparison.Ordinal);
        Assert.Contains("'oops'", result.Issues[2].Problem, StringComparison.Ordinal);
        Assert.Contains("'garbage line'", result.Issues[3].Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_files_name_the_file()
    {
        var e = Assert.Throws<EvaluationDataException>(() => FacePointList.Read("/no/such/list.txt"));
        Assert.Contains("/no/such/list.txt", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<EvaluationDataException>(() => WiderAnnotationFile.Read("/no/such/gt.txt"));
        Assert.Contains("/no/such/gt.txt", e.Message, StringComparison.Ordinal);
    }
}
