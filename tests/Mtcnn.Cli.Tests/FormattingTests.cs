using Mtcnn.Cli.Bench;
using Mtcnn.Cli.Detect;
using Mtcnn.Cli.Output;

namespace Mtcnn.Cli.Tests;

/// <summary>The pieces behind the output formats and input expansion, tested directly.</summary>
public sealed class FormattingTests
{
    [Theory]
    [InlineData(181.0500030517578f, 4, "181.05")]
    [InlineData(62.15614f, 4, "62.1561")]
    [InlineData(0.99999815f, 6, "0.999998")]
    [InlineData(-0.00001f, 4, "0")]
    [InlineData(-3.5f, 4, "-3.5")]
    [InlineData(100000f, 4, "100000")]
    [InlineData(float.NaN, 4, "null")]
    public void Numbers_are_invariant_rounded_and_without_negative_zero(float value, int decimals, string expected)
    {
        var culture = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal(expected, NumberText.Format(value, decimals));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = culture;
        }
    }

    [Theory]
    [InlineData("plain.jpg", "plain.jpg")]
    [InlineData("a,b.jpg", "\"a,b.jpg\"")]
    [InlineData("say \"hi\".jpg", "\"say \"\"hi\"\".jpg\"")]
    public void Csv_fields_are_quoted_when_needed(string field, string expected) =>
        Assert.Equal(expected, CsvResultWriter.Escape(field));

    [Fact]
    public void Json_strings_are_escaped()
    {
        Assert.Equal("\"a\\\"b\\\\c\\nd\"", JsonResultWriter.Quote("a\"b\\c\nd"));
        Assert.Equal("\"photos/été.jpg\"", JsonResultWriter.Quote("photos/été.jpg"));
    }

    [Fact]
    public void Inputs_expand_folders_in_ordinal_order_and_give_unique_png_output_names()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("p/b.JPG");
        temp.CopySample("p/a.png");
        temp.CopySample("p/a.jpg");
        temp.CopySample("p/s/c.webp");
        File.WriteAllText(temp.File("p/readme.md"), "x");
        string folder = Path.Combine(temp.Path, "p");
        var warnings = new List<string>();

        var items = InputResolver.Resolve([folder, Path.Combine(folder, "a.png"), "-", "-"], recursive: true, new StringReader("x/missing.gif\n\n"), warnings.Add);

        Assert.Equal(
            [Path.Join(folder, "a.jpg"), Path.Join(folder, "a.png"), Path.Join(folder, "b.JPG"), Path.Join(folder, "s/c.webp"), Path.Combine(folder, "a.png"), "x/missing.gif"],
            items.Select(i => i.Path).ToArray());
        Assert.Equal(["a.png", "a_2.png", "b.png", "s/c.png", "a_3.png", "missing.png"], items.Select(i => i.OutputName).ToArray());
        Assert.Empty(warnings);
    }

    [Fact]
    public void A_folder_without_images_gives_a_warning()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("p/deep/a.png");
        var warnings = new List<string>();

        var items = InputResolver.Resolve([Path.Combine(temp.Path, "p")], recursive: false, TextReader.Null, warnings.Add);

        Assert.Empty(items);
        Assert.Contains("--recursive", Assert.Single(warnings), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, 1, 1, 2)]
    [InlineData(2, 5, 2, 1)]
    [InlineData(8, 3, 3, 2)]
    [InlineData(1, 100, 1, 1)]
    public void Threads_are_split_between_images_and_each_image(int threads, int images, int workers, int perImage) =>
        Assert.Equal((workers, perImage), DetectPipeline.Split(threads, images));

    [Fact]
    public void Percentiles_use_the_median_and_nearest_rank_p90()
    {
        Assert.Equal(new Percentiles(5.5, 9), Percentiles.Of([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
        Assert.Equal(new Percentiles(3, 3), Percentiles.Of([3]));
    }
}
