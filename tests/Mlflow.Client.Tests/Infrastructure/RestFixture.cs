using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Tests.Infrastructure;

/// <summary>One recorded exchange of <c>tests/Fixtures/rest*/&lt;case&gt;.json</c>.</summary>
internal sealed class RestFixture
{
    public required string Case { get; init; }
    public required string Backend { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    public string? QueryString { get; init; }
    /// <summary>Decoded query: a key maps to one value or, for repeated keys, several.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Query { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    public JsonNode? RequestJson { get; init; }
    public string? RequestBodyText { get; init; }
    public int Status { get; init; }
    public string? ContentType { get; init; }
    public JsonNode? ResponseJson { get; init; }
    public string? ResponseBodyText { get; init; }

    /// <summary>The response body exactly as the server would send it.</summary>
    public string ResponseBody => ResponseJson?.ToJsonString() ?? ResponseBodyText ?? "";

    public override string ToString() => Case;

    public static RestFixture Load(string folder, string caseName)
        => Parse(File.ReadAllText(System.IO.Path.Combine(RepoPaths.FixturesDir, folder, caseName + ".json")));

    /// <summary>Every case of a folder (<c>rest</c> = sqlite, <c>rest-file-backend</c> = file store).</summary>
    public static IEnumerable<RestFixture> All(string folder = "rest")
        => Directory.EnumerateFiles(System.IO.Path.Combine(RepoPaths.FixturesDir, folder), "*.json")
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => Parse(File.ReadAllText(f)));

    public static RestFixture Parse(string text)
    {
        var root = JsonNode.Parse(text)!.AsObject();
        var request = root["request"]!.AsObject();
        var response = root["response"]!.AsObject();
        var query = new Dictionary<string, IReadOnlyList<string>>();
        if (request["query"] is JsonObject q)
        {
            foreach (var (key, value) in q)
            {
                query[key] = value switch
                {
                    JsonArray a => a.Select(v => v!.ToString()).ToList(),
                    null => [],
                    _ => [value.ToString()],
                };
            }
        }

        return new RestFixture
        {
            Case = root["case"]!.GetValue<string>(),
            Backend = root["backend"]?.GetValue<string>() ?? "sqlite",
            Method = request["method"]!.GetValue<string>(),
            Path = request["path"]!.GetValue<string>(),
            QueryString = request["query_string"]?.GetValue<string>(),
            Query = query,
            RequestJson = request["json"]?.DeepClone(),
            RequestBodyText = request["body_text"]?.GetValue<string>(),
            Status = response["status"]!.GetValue<int>(),
            ContentType = response["content_type"]?.GetValue<string>(),
            ResponseJson = response["json"]?.DeepClone(),
            ResponseBodyText = response["body_text"]?.GetValue<string>(),
        };
    }

    /// <summary>A string field of the recorded request (JSON body first, then query).</summary>
    public string? Arg(string name)
    {
        if (RequestJson is JsonObject o && o[name] is { } v)
        {
            return v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
        }

        return Query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
    }
}
