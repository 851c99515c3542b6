using System.Buffers.Binary;
using Mlflow.Client.Evaluation;
using Mlflow.Client.Plots;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation;

public sealed class ScottPlotRendererTests
{
    [Test]
    public void The_confusion_matrix_renders_headless_to_a_png_of_the_requested_size()
    {
        var matrix = ClassificationMetrics.Compute(["cat", "dog", "bird", "dog", "cat"], ["cat", "dog", "dog", "dog", "bird"]).ConfusionMatrix;

        var png = new ScottPlotRenderer { Width = 600, Height = 400 }.RenderConfusionMatrix(matrix, "Normalized confusion matrix");

        Assert.That(png.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        // IHDR: width and height, big-endian, at bytes 16 and 20
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), Is.EqualTo(600));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)), Is.EqualTo(400));
        Assert.That(png, Has.Length.GreaterThan(5_000), "a drawn image, not a blank one");
        if (Environment.GetEnvironmentVariable("MLFLOW_PLOT_OUT") is { Length: > 0 } path)
        {
            File.WriteAllBytes(path, png); // to look at it by hand
        }
    }
}
