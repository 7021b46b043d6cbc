namespace OciRuntime.Spec.Tests;

public class ContainerIdTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("mycontainer")]
    [InlineData("my-container_1.2+3")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("UPPER.lower")]
    [InlineData(".hidden")]
    [InlineData("trailing.")]
    [InlineData("a.b.c")]
    public void Valid_ids(string id)
    {
        ContainerId.IsValid(id).Should().BeTrue();
        ContainerId.Validate(id);
        ContainerId.TryValidate(id, out string? error).Should().BeTrue();
        error.Should().BeNull();
    }

    [Fact]
    public void Id_of_maximum_length_is_valid()
    {
        ContainerId.IsValid(new string('a', ContainerId.MaxLength)).Should().BeTrue();
    }

    [Theory]
    [InlineData("", "container ID must not be empty")]
    [InlineData(".", "invalid container ID \".\": must not be \".\" or \"..\"")]
    [InlineData("..", "invalid container ID \"..\": must not be \".\" or \"..\"")]
    [InlineData("a..b", "invalid container ID \"a..b\": must not contain \"..\"")]
    [InlineData("a/b", "invalid container ID \"a/b\": character '/' is not allowed (use letters, digits, '_', '+', '-' and '.')")]
    [InlineData("../etc", "character '/' is not allowed")]
    [InlineData("/abs", "character '/' is not allowed")]
    [InlineData("a b", "character U+0020 is not allowed")]
    [InlineData("a,b", "character ',' is not allowed")]
    [InlineData("a:b", "character ':' is not allowed")]
    [InlineData("a\nb", "invalid container ID \"a\\nb\": character U+000A is not allowed")]
    [InlineData("a\0b", "character U+0000 is not allowed")]
    [InlineData("tab\t", "character U+0009 is not allowed")]
    [InlineData("ünïcode", "character U+00FC is not allowed")]
    [InlineData("a*", "character '*' is not allowed")]
    [InlineData("a\\b", "character '\\' is not allowed")]
    public void Invalid_ids(string id, string message)
    {
        ContainerId.IsValid(id).Should().BeFalse();
        ArgumentException ex = Assert.Throws<ArgumentException>(() => ContainerId.Validate(id));
        ex.Message.Should().Contain(message);
        ex.Message.Should().NotContain("\n");
    }

    [Fact]
    public void Null_is_invalid()
    {
        ContainerId.IsValid(null).Should().BeFalse();
        Assert.Throws<ArgumentException>(() => ContainerId.Validate(null)).Message.Should().Be("container ID must not be empty");
    }

    [Fact]
    public void Too_long_id()
    {
        string id = new('a', ContainerId.MaxLength + 1);
        Assert.Throws<ArgumentException>(() => ContainerId.Validate(id)).Message
            .Should().Be("container ID is too long (256 characters, the maximum is 255)");
    }
}
