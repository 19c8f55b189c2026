console.log("Switchyard bench: coming soon");
