using Mlflow.Client;
using Mlflow.Client.Comparison;
using Spectre.Console;

namespace Mlflow.Samples;

/// <summary>Console output shared by the samples.</summary>
internal static class SampleConsole
{
    static SampleConsole()
    {
        // Piped into a file or a CI log, Spectre.Console would wrap at 80 columns: keep lines and tables whole.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 160;
        }
    }

    /// <summary>The experiment name: <c>MLFLOW_EXPERIMENT_NAME</c> when set, else the sample's own.</summary>
    public static string Experiment(string fallback)
        => Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.ExperimentName) is { Length: > 0 } name ? name : fallback;

    /// <summary>Where the tracker's data went: the redacted <see cref="MlflowTracker.Destination"/> (never a credential) or the offline folder.</summary>
    public static void PrintDestination(MlflowTracker tracker, ActiveRun run)
    {
        var text = run.DataLocation switch
        {
            RunDataLocation.LocalStore => $"Logged to the local store {tracker.Destination} (open it with: mlflow ui --backend-store-uri {tracker.Destination})",
            RunDataLocation.Server => $"Logged to {tracker.Destination}",
            _ => $"The server {tracker.Destination} could not be reached: the runs are kept in {tracker.OfflineDirectory}",
        };
        AnsiConsole.WriteLine(text);
    }

    /// <summary>Prints chosen columns of a run table with Spectre.Console, numbers to four decimals; an empty cell stays empty.</summary>
    public static void PrintRunTable(RunTable table, IReadOnlyList<string> columns, string? highlightRunId = null)
    {
        var grid = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            // "metrics.f1_score" is shown as "f1_score": the table stays narrow enough for an 80-column console.
            grid.AddColumn(new TableColumn(Markup.Escape(column[(column.IndexOf('.', StringComparison.Ordinal) + 1)..])));
        }

        foreach (var row in table.Rows)
        {
            var cells = columns.Select(c => Format(RunTable.Cell(row, c), c)).ToList();
            if (row.RunId == highlightRunId)
            {
                cells[0] = "[green]" + cells[0] + " *[/]";
            }

            grid.AddRow(cells.ToArray());
        }

        AnsiConsole.Write(grid);
    }

    private static string Format(string cell, string column)
    {
        if (column.StartsWith("metrics.", StringComparison.Ordinal)
            && double.TryParse(cell, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            cell = value.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
        }

        return Markup.Escape(cell);
    }
}
