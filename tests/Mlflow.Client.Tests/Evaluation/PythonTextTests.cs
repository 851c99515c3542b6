using Mlflow.Client.Evaluation;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation;

/// <summary>
/// Issue 21 item 14: the text metrics tokenize as the Python references do, where .NET's nearest methods differ.
/// Expected values from Python 3: <c>'İstanbul'.lower() == 'i̇stanbul'</c> (i + U+0307), <c>'ΟΔΟΣ ΣΑΣ Σ'.lower() ==
/// 'οδος σας σ'</c>, <c>'a\x1cb\x1fc d'.split() == ['a', 'b', 'c', 'd']</c>.
/// </summary>
public sealed class PythonTextTests
{
    [Test]
    public void Lower_maps_the_dotted_capital_I_to_two_characters_and_a_final_sigma_as_python_does()
    {
        Assert.That(PythonText.Lower("İstanbul"), Is.EqualTo("i\u0307stanbul"));
        Assert.That(PythonText.Lower("ΟΔΟΣ ΣΑΣ Σ"), Is.EqualTo("οδος σας σ"));
        Assert.That(PythonText.Lower("ΑΣ."), Is.EqualTo("ας."));
        Assert.That(PythonText.Lower("Plain ASCII"), Is.EqualTo("plain ascii"));
    }

    [Test]
    public void Split_treats_the_separators_U001C_to_U001F_as_whitespace()
    {
        Assert.That(PythonText.Split("a\u001cb\u001fc d"), Is.EqualTo(new[] { "a", "b", "c", "d" }));
        Assert.That(PythonText.Split("  \t "), Is.Empty);
    }

    [Test]
    public void The_metrics_use_them_word_counts_13a_tokens_and_token_F1()
    {
        Assert.That(TextMetrics.WordCount("one\u001ctwo\u001dthree"), Is.EqualTo(3), "'one\\x1ctwo\\x1dthree'.split() has 3 words");
        Assert.That(TextMetrics.Tokenize13a("a\u001eb"), Is.EqualTo(new[] { "a", "b" }));
        // SQuAD normalization lowercases with Python's lower(): 'İ' is 'i̇', not 'i', so the tokens differ and F1 is 0
        Assert.That(TextMetrics.TokenF1("İ", "i"), Is.Zero);
        Assert.That(TextMetrics.TokenF1("İzmir", "i\u0307zmir"), Is.EqualTo(1.0));
    }
}
