using System.Globalization;
using System.Security.Cryptography;

namespace Mlflow.Client;

/// <summary>Run names like MLflow's stores generate them: <c>&lt;adjective&gt;-&lt;noun&gt;-&lt;0..999&gt;</c>, at most 20 characters.</summary>
internal static class RunNameGenerator
{
    /// <summary>Longest generated name.</summary>
    public const int MaxLength = 20;

    // Own word lists (not MLflow's). Adjectives at most 7 letters, nouns at most 8: 7 + 1 + 8 + 1 + 3 = 20.
    private static readonly string[] Adjectives =
    [
        "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring", "eager", "fancy", "fast",
        "gentle", "glad", "golden", "grand", "happy", "honest", "jolly", "keen", "kind", "lively", "lucky", "merry",
        "mighty", "nimble", "noble", "polite", "proud", "quick", "quiet", "rapid", "shiny", "silent", "silver", "smart",
        "snappy", "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise", "witty", "zesty",
    ];

    private static readonly string[] Nouns =
    [
        "badger", "bear", "bee", "bird", "cat", "comet", "crane", "deer", "dolphin", "eagle", "falcon", "finch",
        "fox", "gecko", "goose", "hawk", "heron", "horse", "koala", "lark", "lemur", "lion", "lynx", "marten",
        "moose", "moth", "newt", "otter", "owl", "panda", "parrot", "pike", "puffin", "quail", "raven", "robin",
        "salmon", "seal", "shark", "sparrow", "swan", "tiger", "trout", "turtle", "whale", "wolf", "wren", "yak",
    ];

    /// <summary>A new random name.</summary>
    public static string Next()
    {
        var adjective = Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)];
        var noun = Nouns[RandomNumberGenerator.GetInt32(Nouns.Length)];
        var number = RandomNumberGenerator.GetInt32(1000);
        return string.Create(CultureInfo.InvariantCulture, $"{adjective}-{noun}-{number}");
    }

    /// <summary>Every word, for tests of the length bound.</summary>
    internal static (IReadOnlyList<string> Adjectives, IReadOnlyList<string> Nouns) Words => (Adjectives, Nouns);
}
