using System.Text;
using Mlflow.Client.Artifacts;

namespace Mlflow.Client;

/// <summary>Artifact files of the run: logging them (as MLflow's fluent API does) and reading them back.</summary>
/// <remarks>
/// <para>Where the bytes go follows the run's artifact root: the tracking server's artifact proxy
/// (<c>mlflow-artifacts:</c>, streamed); a local path or <c>file:</c> root (a server started with
/// <c>--default-artifact-root ./mlruns</c>) written directly when the folder is on this machine; the run's
/// <c>artifacts</c> folder in the local store. With the offline fallback, a file logged while the server cannot be
/// reached is copied into the run's offline copy and uploaded once when it answers again (or by <c>mlflow-sync</c>).
/// Other schemes (<c>s3</c>, <c>gs</c>, <c>wasbs</c>, <c>dbfs</c>) throw <see cref="NotSupportedException"/>: start the
/// server with <c>--serve-artifacts</c> so it proxies them.</para>
/// <para>Artifact paths are relative, '/'-separated: no absolute path, drive letter, backslash, <c>..</c> or <c>.</c>
/// segment, <c>#</c>, or a character or name some file system refuses (<c>: * ? " &lt; &gt; |</c>, <c>con</c>,
/// <c>aux</c>...). Such a path throws <see cref="MlflowValidationException"/> before anything is written; a local file
/// is written under a temporary name and moved into place when complete.</para>
/// </remarks>
public sealed partial class ActiveRun
{
    private string? _artifactUri;

    /// <summary>The server run's artifact root, once read.</summary>
    internal string? ArtifactUri { get => Volatile.Read(ref _artifactUri); set => Volatile.Write(ref _artifactUri, value); }

    /// <summary>Logs a local file as an artifact, streamed (never held whole in memory), as <c>mlflow.log_artifact</c>.</summary>
    /// <param name="localFile">The file; its name is kept.</param>
    /// <param name="artifactPath">The folder under the run's artifact root (<c>plots/roc</c>); the root when <see langword="null"/>.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="MlflowValidationException">The resulting artifact path breaks the path rules of <see cref="ActiveRun"/>'s artifact methods; nothing was written.</exception>
    /// <exception cref="NotSupportedException">The run's artifact root is neither proxied by the server nor a folder reachable from here.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogArtifact(string localFile, string? artifactPath = null)
        => LogArtifactAsync(localFile, artifactPath).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogArtifact(string, string?)"/>
    /// <param name="localFile">The file; its name is kept.</param>
    /// <param name="artifactPath">The folder under the run's artifact root; the root when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes when the file is stored (or kept offline).</returns>
    public Task LogArtifactAsync(string localFile, string? artifactPath = null, CancellationToken cancellationToken = default)
    {
        ThrowIfEndedForArtifacts();
        var full = LocalFile(localFile);
        var target = ArtifactPaths.Join(ArtifactPaths.CheckFolder(artifactPath), Path.GetFileName(full));
        return _tracker.WriteArtifactAsync(this, target, () => OpenLocal(full), cancellationToken);
    }

    /// <summary>Logs every file under a local folder, streamed, with their relative paths kept, as <c>mlflow.log_artifacts</c>.</summary>
    /// <param name="localDirectory">The folder; its own name is not part of the artifact paths.</param>
    /// <param name="artifactPath">The folder under the run's artifact root to put them in; the root when <see langword="null"/>.</param>
    /// <remarks>Every path is checked before the first file is written.</remarks>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="MlflowValidationException">A file's artifact path breaks the path rules; nothing was written.</exception>
    /// <exception cref="NotSupportedException">The run's artifact root is neither proxied by the server nor a folder reachable from here.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogArtifacts(string localDirectory, string? artifactPath = null)
        => LogArtifactsAsync(localDirectory, artifactPath).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogArtifacts(string, string?)"/>
    /// <param name="localDirectory">The folder; its own name is not part of the artifact paths.</param>
    /// <param name="artifactPath">The folder under the run's artifact root; the root when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the uploads (files already stored stay).</param>
    /// <returns>A task that completes when every file is stored (or kept offline).</returns>
    public async Task LogArtifactsAsync(string localDirectory, string? artifactPath = null, CancellationToken cancellationToken = default)
    {
        ThrowIfEndedForArtifacts();
        foreach (var (file, target) in ArtifactPaths.PlanDirectory(localDirectory, artifactPath))
        {
            await _tracker.WriteArtifactAsync(this, target, () => OpenLocal(file), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Logs a text as an artifact file (UTF-8), as <c>mlflow.log_text</c>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="artifactFile">The file's path under the run's artifact root (<c>outputs/summary.txt</c>).</param>
    /// <exception cref="MlflowValidationException">The path breaks the path rules; nothing was written.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogText(string text, string artifactFile) => LogTextAsync(text, artifactFile).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogText(string, string)"/>
    /// <param name="text">The text.</param>
    /// <param name="artifactFile">The file's path under the run's artifact root.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes when the file is stored (or kept offline).</returns>
    public Task LogTextAsync(string text, string artifactFile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return LogBytesAsync(Encoding.UTF8.GetBytes(text), artifactFile, cancellationToken);
    }

    /// <summary>
    /// Logs a dictionary as a JSON file, or YAML when the name ends in <c>.yaml</c>/<c>.yml</c>, written as
    /// <c>mlflow.log_dict</c> writes them (JSON indented by 2 in the given key order; YAML block style, keys sorted).
    /// </summary>
    /// <param name="dictionary">An <c>IDictionary</c>, a sequence of key/value pairs, or an object whose public properties are the keys (a record, an anonymous object); values nest.</param>
    /// <param name="artifactFile">The file's path under the run's artifact root (<c>config.json</c>, <c>params.yaml</c>).</param>
    /// <exception cref="ArgumentException">The value is not a mapping.</exception>
    /// <exception cref="MlflowValidationException">The path breaks the path rules; nothing was written.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogDict(object dictionary, string artifactFile) => LogDictAsync(dictionary, artifactFile).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogDict(object, string)"/>
    /// <param name="dictionary">An <c>IDictionary</c>, a sequence of key/value pairs, or an object whose public properties are the keys.</param>
    /// <param name="artifactFile">The file's path under the run's artifact root.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes when the file is stored (or kept offline).</returns>
    public Task LogDictAsync(object dictionary, string artifactFile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dictionary);
        ArtifactPaths.Check(artifactFile);
        return LogTextAsync(DictSerializer.Serialize(dictionary, artifactFile), artifactFile, cancellationToken);
    }

    /// <summary>Logs an image (PNG bytes, for example a confusion matrix) as an artifact file, as <c>mlflow.log_image</c> stores one.</summary>
    /// <param name="png">The encoded image.</param>
    /// <param name="artifactFile">The file's path under the run's artifact root (<c>plots/confusion.png</c>).</param>
    /// <exception cref="ArgumentException">The name ends in <c>.png</c> and the bytes are not a PNG image.</exception>
    /// <exception cref="MlflowValidationException">The path breaks the path rules; nothing was written.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogImage(byte[] png, string artifactFile) => LogImageAsync(png, artifactFile).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogImage(byte[], string)"/>
    /// <param name="png">The encoded image.</param>
    /// <param name="artifactFile">The file's path under the run's artifact root.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes when the file is stored (or kept offline).</returns>
    public Task LogImageAsync(byte[] png, string artifactFile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(png);
        CheckImage(png.AsSpan(0, Math.Min(png.Length, PngSignature.Length)), artifactFile);
        return LogBytesAsync(png, artifactFile, cancellationToken);
    }

    /// <summary>Logs an image read from a stream (from its current position, streamed) as an artifact file.</summary>
    /// <param name="png">The encoded image; not disposed. A stream that cannot seek cannot be read again, so a failed upload is not kept offline.</param>
    /// <param name="artifactFile">The file's path under the run's artifact root (<c>plots/confusion.png</c>).</param>
    /// <exception cref="ArgumentException">The name ends in <c>.png</c> and the stream does not hold a PNG image.</exception>
    /// <exception cref="MlflowValidationException">The path breaks the path rules; nothing was written.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogImage(Stream png, string artifactFile) => LogImageAsync(png, artifactFile).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogImage(Stream, string)"/>
    /// <param name="png">The encoded image; not disposed.</param>
    /// <param name="artifactFile">The file's path under the run's artifact root.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task that completes when the file is stored (or kept offline).</returns>
    public Task LogImageAsync(Stream png, string artifactFile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(png);
        ThrowIfEndedForArtifacts();
        var path = ArtifactPaths.Check(artifactFile);
        if (png.CanSeek)
        {
            var start = png.Position;
            Span<byte> head = stackalloc byte[PngSignature.Length];
            var read = png.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            png.Position = start;
            CheckImage(head[..read], artifactFile);
            return _tracker.WriteArtifactAsync(this, path, () => { png.Position = start; return new NonDisposingStream(png); }, cancellationToken);
        }

        var opened = 0;
        return _tracker.WriteArtifactAsync(this, path, () => Interlocked.Exchange(ref opened, 1) == 0
            ? new NonDisposingStream(png)
            : throw new InvalidOperationException($"The image stream for '{artifactFile}' cannot be read a second time (it cannot seek); pass bytes or a seekable stream."), cancellationToken);
    }

    /// <summary>Writes bytes as one artifact file (also what table, model and dataset files use).</summary>
    internal Task LogBytesAsync(byte[] content, string artifactFile, CancellationToken cancellationToken)
    {
        ThrowIfEndedForArtifacts();
        var path = ArtifactPaths.Check(artifactFile);
        return _tracker.WriteArtifactAsync(this, path, () => new MemoryStream(content, writable: false), cancellationToken);
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static void CheckImage(ReadOnlySpan<byte> head, string artifactFile)
    {
        ArtifactPaths.Check(artifactFile);
        if (artifactFile.EndsWith(".png", StringComparison.OrdinalIgnoreCase) && !head.SequenceEqual(PngSignature))
        {
            throw new ArgumentException($"The image for '{artifactFile}' is not a PNG file (it does not start with the PNG signature).", nameof(artifactFile));
        }
    }

    private static string LocalFile(string localFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(localFile);
        var full = Path.GetFullPath(localFile);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The file '{localFile}' to log as an artifact does not exist.", localFile);
        }

        return full;
    }

    private static FileStream OpenLocal(string path)
        => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    private void ThrowIfEndedForArtifacts()
    {
        if (IsEnded)
        {
            throw new InvalidOperationException($"Run {RunId} has ended: it takes no more artifacts.");
        }
    }
}
