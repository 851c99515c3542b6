namespace Mlflow.Client;

/// <summary>
/// Finds the commit checked out in the git tree holding a folder, by reading <c>.git/HEAD</c> and the ref it names
/// (loose or packed); handles worktrees and submodules (<c>.git</c> file with <c>gitdir:</c>). Never starts git.
/// </summary>
internal static class GitCommitReader
{
    public static string? TryRead(string? startDirectory)
    {
        try
        {
            for (var dir = startDirectory is null ? null : new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
            {
                var dotGit = Path.Combine(dir.FullName, ".git");
                if (Directory.Exists(dotGit))
                {
                    return ReadHead(dotGit);
                }

                if (File.Exists(dotGit))
                {
                    var line = File.ReadAllText(dotGit).Trim();
                    if (!line.StartsWith("gitdir:", StringComparison.Ordinal))
                    {
                        return null;
                    }

                    var gitDir = line["gitdir:".Length..].Trim();
                    return ReadHead(Path.GetFullPath(gitDir, dir.FullName));
                }
            }
        }
#pragma warning disable CA1031 // best effort: a missing or odd repository means no tag
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return null;
    }

    private static string? ReadHead(string gitDir)
    {
        var headFile = Path.Combine(gitDir, "HEAD");
        if (!File.Exists(headFile))
        {
            return null;
        }

        var head = File.ReadAllText(headFile).Trim();
        if (!head.StartsWith("ref:", StringComparison.Ordinal))
        {
            return IsSha(head) ? head : null;
        }

        var reference = head["ref:".Length..].Trim();
        var commonDir = gitDir;
        var commonFile = Path.Combine(gitDir, "commondir");
        if (File.Exists(commonFile))
        {
            commonDir = Path.GetFullPath(File.ReadAllText(commonFile).Trim(), gitDir);
        }

        foreach (var dir in new[] { gitDir, commonDir })
        {
            var loose = Path.Combine(dir, reference.Replace('/', Path.DirectorySeparatorChar));
            if (File.Exists(loose))
            {
                var sha = File.ReadAllText(loose).Trim();
                return IsSha(sha) ? sha : null;
            }
        }

        var packed = Path.Combine(commonDir, "packed-refs");
        if (File.Exists(packed))
        {
            foreach (var line in File.ReadLines(packed))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space == 40 && line.AsSpan(space + 1).Trim().SequenceEqual(reference) && IsSha(line[..40]))
                {
                    return line[..40];
                }
            }
        }

        return null;
    }

    private static bool IsSha(string s) => s.Length is 40 or 64 && s.All(char.IsAsciiHexDigit);
}
