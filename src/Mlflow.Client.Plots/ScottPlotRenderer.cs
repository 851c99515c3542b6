using System.Globalization;
using Mlflow.Client.Evaluation;
using ScottPlot;

namespace Mlflow.Client.Plots;

/// <summary>
/// Draws evaluation plots with ScottPlot (SkiaSharp; renders headless, no display needed). The confusion matrix is drawn
/// as MLflow's evaluator draws it: rows (true labels) normalized to 1, a blue scale, each cell's share written in it.
/// </summary>
public sealed class ScottPlotRenderer : IPlotRenderer
{
    /// <summary>The image width in pixels (default 1050, MLflow's 6 in at 175 dpi).</summary>
    public int Width { get; init; } = 1050;

    /// <summary>The image height in pixels (default 700, MLflow's 4 in at 175 dpi).</summary>
    public int Height { get; init; } = 700;

    /// <inheritdoc/>
    public byte[] RenderConfusionMatrix(ConfusionMatrix matrix, string title)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var n = matrix.Labels.Count;
        var shares = matrix.NormalizedByActual();
        var colormap = new ScottPlot.Colormaps.Blues();
        using var plot = new Plot();
        for (var i = 0; i < n; i++)
        {
            var top = n - i; // the first true label is the top row
            for (var j = 0; j < n; j++)
            {
                var share = shares[i, j];
                var cell = plot.Add.Rectangle(j, j + 1, top - 1, top);
                cell.FillColor = colormap.GetColor(1 - share); // ScottPlot's Blues runs from dark to light
                cell.LineWidth = 0;
                var text = plot.Add.Text(share.ToString("0.00", CultureInfo.InvariantCulture), j + 0.5, top - 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = share > 0.5 ? Colors.White : Colors.Black;
                text.LabelFontSize = Math.Min(24, 200f / n);
            }
        }

        var centers = Enumerable.Range(0, n).Select(k => k + 0.5).ToArray();
        plot.Axes.Bottom.SetTicks(centers, [.. matrix.Labels]);
        plot.Axes.Left.SetTicks(centers, matrix.Labels.Reverse().ToArray());
        plot.Axes.SetLimits(0, n, 0, n);
        plot.HideGrid();
        plot.Title(title);
        plot.XLabel("Predicted label");
        plot.YLabel("True label");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}
