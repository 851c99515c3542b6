namespace Mlflow.Client;

/// <summary>Run names like MLflow's own: <c>&lt;adjective&gt;-&lt;noun&gt;-&lt;0..999&gt;</c>, at most 20 characters.</summary>
internal static class RunNameGenerator
{
    private static readonly string[] Adjectives =
    [
        "able", "agile", "amazing", "bold", "brave", "bright", "calm", "clean", "clever", "crisp", "dapper", "eager",
        "fair", "fast", "gentle", "good", "grand", "happy", "honest", "kind", "lively", "loud", "lucky", "merry",
        "neat", "nimble", "polite", "proud", "quick", "quiet", "rare", "rich", "sharp", "shy", "smart", "smooth",
        "stable", "sunny", "swift", "tidy", "vast", "warm", "wise", "witty", "zesty",
    ];

    private static readonly string[] Nouns =
    [
        "ant", "bass", "bat", "bear", "bee", "carp", "cat", "cod", "colt", "crab", "crow", "deer", "dog", "dove",
        "duck", "eel", "elk", "fawn", "finch", "fly", "fox", "frog", "goat", "gull", "hare", "hawk", "hen", "horse",
        "jay", "koi", "lamb", "lark", "lynx", "mole", "moth", "mule", "newt", "owl", "ox", "panda", "pig", "ram",
        "seal", "shrew", "sloth", "snail", "stag", "swan", "toad", "trout", "whale", "wolf", "worm", "yak", "zebra",
    ];

    public static string Next()
        => $"{Adjectives[Random.Shared.Next(Adjectives.Length)]}-{Nouns[Random.Shared.Next(Nouns.Length)]}-{Random.Shared.Next(1000)}";
}
