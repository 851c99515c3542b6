using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// Reads a judge model's answer: a JSON object with <c>result</c> and <c>rationale</c>, possibly inside a markdown code
/// fence or after some prose. The result becomes MLflow's <c>"yes"</c>/<c>"no"</c>; anything else is an error, never an exception.
/// </summary>
internal static class JudgeAnswer
{
    private static readonly HashSet<string> Affirmative = new(StringComparer.OrdinalIgnoreCase)
    {
        "yes", "y", "true", "pass", "passed", "correct", "safe", "relevant", "grounded", "supported", "1",
    };

    private static readonly HashSet<string> Negative = new(StringComparer.OrdinalIgnoreCase)
    {
        "no", "n", "false", "fail", "failed", "incorrect", "unsafe", "irrelevant", "not grounded", "unsupported", "0",
    };

    /// <summary>The verdict (<c>yes</c>/<c>no</c>) and rationale, or why the answer could not be read.</summary>
    public static (string? Verdict, string? Rationale, string? Problem) Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null, "The judge answered nothing.");
        }

        var start = text.IndexOf('{', StringComparison.Ordinal);
        var end = text.LastIndexOf('}');
        if (start < 0 || end <= start)
        {
            return (null, null, "The judge's answer holds no JSON object: " + Cut(text));
        }

        JsonObject? o;
        try
        {
            o = JsonNode.Parse(text[start..(end + 1)]) as JsonObject;
        }
        catch (JsonException)
        {
            return (null, null, "The judge's answer is not valid JSON: " + Cut(text));
        }

        if (o is null)
        {
            return (null, null, "The judge's answer is not a JSON object: " + Cut(text));
        }

        var rationale = o["rationale"] is JsonValue r && r.GetValueKind() == JsonValueKind.String ? r.GetValue<string>().Trim() : null;
        var verdict = o["result"] switch
        {
            JsonValue v when v.GetValueKind() == JsonValueKind.True => Feedback.Yes,
            JsonValue v when v.GetValueKind() == JsonValueKind.False => Feedback.No,
            JsonValue v when v.GetValueKind() == JsonValueKind.String && Affirmative.Contains(v.GetValue<string>().Trim()) => Feedback.Yes,
            JsonValue v when v.GetValueKind() == JsonValueKind.String && Negative.Contains(v.GetValue<string>().Trim()) => Feedback.No,
            _ => null,
        };
        return verdict is null
            ? (null, rationale, "The judge's answer has no \"result\" of yes or no: " + Cut(text))
            : (verdict, rationale, null);
    }

    private static string Cut(string text)
    {
        var flat = text.Trim();
        return flat.Length <= 300 ? flat : flat[..300] + "...";
    }
}
