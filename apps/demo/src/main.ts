console.log(process.env.PATH.split(":").slice(0,6).join("\n"))
